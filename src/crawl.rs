//! crawl (in progress)
