//! The screens that are [`Component`](crate::component::Component)s, one file or folder each:
//! the Apps and Identities lists, App detail, Identity detail, the FIC wizard, the live test exchange, the token inspector, "use it in your workload" (`workload/`), the Health tab (`health/`), and the
//! overlays `help` and `palette`. Each owns its state, answers keys,
//! actions, pastes and its effects' messages with an `Outcome`, and asks for navigation with a
//! `Nav`; none imports the root (`update`) or another screen.

pub mod app_detail;
pub mod exchange;
pub mod failing;
pub mod health;
pub mod help;
pub mod identity_detail;
pub mod inspector;
pub mod lists;
pub mod palette;
pub mod wizard;
pub mod workload;
