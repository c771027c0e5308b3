//! extract (in progress)
