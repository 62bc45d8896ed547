//! How a codec finds the call it serves: the one mechanism, on both sides.
//!
//! tonic makes a call's codec inside its own code, where no call is in reach, and the traced
//! call starts in ours, where the codec is out of reach. Both happen in one poll of one task:
//!
//! - server: tonic makes the request decoder (`Codec::decoder`), then calls the service
//!   method, whose traced handler starts the call right away;
//! - client: a generated client makes its codec and tonic its request encoder
//!   (`Codec::encoder`), then calls the transport service, where the client layer starts the
//!   call; the response decoder comes later, from the same codec.
//!
//! So the codec half made first creates a [`CodecLink`] and leaves it in this thread's slot
//! ([`CodecLink::offer`]); the call start takes it in the same poll ([`CodecLink::take`]) and
//! connects its call; every half of the codec holds a clone, and finds the call through it
//! wherever it is polled later (a handler's spawned task, the response stream). A call start
//! always takes the slot, so no link outlives the poll it was made in; a link never taken
//! stays unconnected and its codec records nothing.
//!
//! This relies on tonic's order. `tests/tests/codec_order.rs` fails loudly if a tonic release
//! changes it, and a call start that expected a link and found none logs an error.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, OnceLock};

thread_local! {
    /// The link the codec made last on this thread, until the call starting now takes it.
    static OFFERED: RefCell<Option<Arc<dyn Any + Send + Sync>>> = const { RefCell::new(None) };
}

/// Shared by a codec and its call: empty until the call connects it.
pub struct CodecLink<T>(Arc<OnceLock<T>>);

impl<T> Clone for CodecLink<T> {
    fn clone(&self) -> Self {
        CodecLink(self.0.clone())
    }
}

impl<T> fmt::Debug for CodecLink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodecLink")
            .field("connected", &self.0.get().is_some())
            .finish()
    }
}

impl<T: Send + Sync + 'static> CodecLink<T> {
    /// A new link, left in this thread's slot for the call that starts in this poll.
    pub(crate) fn offer() -> Self {
        let link = Arc::new(OnceLock::new());
        OFFERED.with(|offered| *offered.borrow_mut() = Some(link.clone()));
        CodecLink(link)
    }

    /// The link a codec left in this poll, if it is one of this side's; empties the slot
    /// either way.
    pub(crate) fn take() -> Option<Self> {
        let offered = OFFERED.with(|offered| offered.borrow_mut().take())?;
        offered.downcast::<OnceLock<T>>().ok().map(CodecLink)
    }

    /// Connects the codec to `call`; a link is connected once.
    pub(crate) fn connect(&self, call: T) {
        let _first_connection_wins = self.0.set(call);
    }

    /// The connected call, if any.
    pub(crate) fn call(&self) -> Option<&T> {
        self.0.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_takes_the_link_its_codec_offered_in_the_same_poll_once() {
        let offered = CodecLink::<u32>::offer();
        let taken = CodecLink::<u32>::take().expect("offered in this poll");
        assert!(CodecLink::<u32>::take().is_none(), "taken once");
        taken.connect(7);
        taken.connect(8);
        assert_eq!(offered.call(), Some(&7), "the first connection wins");
    }

    #[test]
    fn the_other_side_link_is_not_taken_but_cleared() {
        let _server = CodecLink::<u32>::offer();
        assert!(CodecLink::<String>::take().is_none());
        assert!(CodecLink::<u32>::take().is_none(), "the slot was emptied");
    }
}
