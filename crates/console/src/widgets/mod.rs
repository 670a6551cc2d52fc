//! Interaction pieces shared by several screens (below them all).

pub mod picker;
