//! The sandbox: a local emulator of the Entra token service, the Graph subset and the managed
//! identity endpoints that ficus uses.
