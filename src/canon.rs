//! canon (in progress)
