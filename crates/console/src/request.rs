//! Request ids: every effect's answer carries the id of the request it answers, so answers
//! nobody waits for any more are dropped.

pub type RequestId = u64;

/// Hands out request ids, one more each time; shared read-only with the screens (through
/// `Ctx`) so they can tag their own commands.
#[derive(Debug, Default)]
pub struct RequestIds(std::cell::Cell<RequestId>);

impl RequestIds {
    pub fn next(&self) -> RequestId {
        let next = self.0.get() + 1;
        self.0.set(next);
        next
    }
}
