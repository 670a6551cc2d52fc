//! The screens that are [`Component`](crate::component::Component)s, one folder each: the
//! FIC wizard, the live test exchange, the token inspector. Each owns its state, answers keys,
//! actions, pastes and its effects' messages with an `Outcome`, and asks for navigation with a
//! `Nav`; none imports the root (`update`) or another screen.

pub mod exchange;
pub mod inspector;
pub mod wizard;
