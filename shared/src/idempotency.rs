//! The write being served, where the store's commit can see it: a task-local scope set around
//! the handler by `http::idempotency`. With an `Idempotency-Key`, the commit puts the key's
//! record (and the answer, when the handler could give it beforehand) in the same transaction
//! as the write (`store::Tx`). With or without one, it notes whether a commit's outcome is
//! unknown (sent, and no answer came), so that a 503 can say so.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::domain::UserId;
use crate::domain::idempotency::IdempotencyKey;

/// An answer as a key's record keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: String,
}

/// The key a request holds the lease of.
#[derive(Clone, Debug)]
pub struct Held {
    pub user: UserId,
    pub key: IdempotencyKey,
    pub fingerprint: String,
    /// Ours alone: the record's writes are conditioned on it, so a request whose lease was
    /// taken over (it outlived it) writes nothing.
    pub lease_id: String,
    pub expire_at: i64,
}

type Render = Box<dyn Fn(&dyn Any) -> Option<StoredAnswer> + Send + Sync>;

#[derive(Default)]
struct State {
    render: Option<Render>,
    /// The key's record is in a committed transaction.
    recorded: bool,
    /// With it, the answer.
    answered: bool,
    /// A transaction was sent and no outcome came back (yet).
    in_flight: bool,
}

pub struct Scope {
    pub held: Option<Held>,
    /// `DELETE`: its answer is 204 whatever it deleted, so the commit stores it.
    pub deletes: bool,
    state: Mutex<State>,
}

tokio::task_local! {
    static CURRENT: Arc<Scope>;
}

impl Scope {
    pub fn new(held: Option<Held>, deletes: bool) -> Arc<Self> {
        Arc::new(Self {
            held,
            deletes,
            state: Mutex::default(),
        })
    }
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Whether a commit was sent whose outcome never came back.
    pub fn outcome_unknown(&self) -> bool {
        self.state().in_flight
    }
    /// Whether the key's record went in with a committed write.
    pub fn recorded(&self) -> bool {
        self.state().recorded
    }
}

/// Whether the request being served may have applied a write its answer will not show: a
/// commit sent whose outcome never came back, or one committed with the key's record (a
/// repeat with the key then gets its outcome).
pub fn may_have_applied() -> bool {
    with(|scope| scope.outcome_unknown() || scope.recorded()).unwrap_or(false)
}

/// Whether the request being served holds an idempotency key.
pub fn holds_key() -> bool {
    with(|scope| scope.held.is_some()).unwrap_or(false)
}

/// Runs `work` within `scope`.
pub async fn within<F: Future>(scope: Arc<Scope>, work: F) -> F::Output {
    CURRENT.scope(scope, work).await
}

fn with<R>(f: impl FnOnce(&Scope) -> R) -> Option<R> {
    CURRENT.try_with(|scope| f(scope)).ok()
}

/// How the handler answers once the store has made what it commits (`T`, handed over by the
/// store with `made`): called at the commit, so that the answer goes into the key's record
/// with the write, and a repeat after a lost answer gets it.
pub fn answer_at_commit<T: 'static>(render: impl Fn(&T) -> StoredAnswer + Send + Sync + 'static) {
    with(|scope| {
        scope.state().render = Some(Box::new(move |made| made.downcast_ref().map(&render)));
    });
}

/// What the store is about to commit, for the handler's answer (`answer_at_commit`).
pub(crate) fn rendered(made: &dyn Any) -> Option<StoredAnswer> {
    with(|scope| scope.state().render.as_ref().and_then(|r| r(made))).flatten()
}

/// The key whose record the next commit must write: none once one has.
pub(crate) fn to_record() -> Option<(Held, bool)> {
    with(|scope| match (&scope.held, scope.state().recorded) {
        (Some(held), false) => Some((held.clone(), scope.deletes)),
        _ => None,
    })
    .flatten()
}

/// Marks the record committed (with an answer, or without).
pub(crate) fn note_recorded(answered: bool) {
    with(|scope| {
        let mut state = scope.state();
        state.recorded = true;
        state.answered = answered;
    });
}

/// A commit is being sent (`true`), or its outcome came back (`false`).
pub(crate) fn note_in_flight(in_flight: bool) {
    with(|scope| scope.state().in_flight = in_flight);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_answer_is_rendered_from_what_the_store_made() {
        let scope = Scope::new(None, false);
        let seen = within(scope.clone(), async {
            answer_at_commit(|n: &u32| StoredAnswer {
                status: 201,
                content_type: None,
                location: None,
                body: n.to_string(),
            });
            (rendered(&7u32), rendered(&"other type"))
        })
        .await;
        assert_eq!(seen.0.map(|a| a.body), Some("7".to_owned()));
        assert_eq!(seen.1, None);
        assert_eq!(rendered(&7u32), None, "no scope, no answer");
    }

    #[tokio::test]
    async fn a_commit_sent_without_an_outcome_is_unknown() {
        let scope = Scope::new(None, false);
        within(scope.clone(), async { note_in_flight(true) }).await;
        assert!(scope.outcome_unknown());
        within(scope.clone(), async { note_in_flight(false) }).await;
        assert!(!scope.outcome_unknown());
    }
}
