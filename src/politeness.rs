//! politeness (in progress)
