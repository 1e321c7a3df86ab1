//! The base of the stateful fakes that stand in for launchctl and schtasks (which cannot run
//! here): one shared state behind a handle the backend owns and the test keeps a clone of,
//! every call recorded as the command line, every pause the code under test asked for recorded
//! instead of slept.

use std::cell::{RefCell, RefMut};
use std::io;
use std::rc::Rc;
use std::time::Duration;

use super::runner::{CommandOutput, CommandRunner};
use super::wait::Sleeper;

/// What a faked tool's model provides.
pub trait FakeTool {
    /// Answers `program args` the way the real tool would (recording the call).
    fn answer(&mut self, program: &str, args: &[String]) -> io::Result<CommandOutput>;
    /// The calls recorded so far.
    fn calls(&mut self) -> &mut Vec<String>;
    /// The pauses asked for so far.
    fn sleeps(&mut self) -> &mut Vec<Duration>;
}

/// A handle on a shared fake model: the backend owns one, the test keeps another.
#[derive(Debug)]
pub struct SharedFake<S>(pub Rc<RefCell<S>>);

impl<S> Clone for SharedFake<S> {
    fn clone(&self) -> Self {
        Self(Rc::clone(&self.0))
    }
}

impl<S> SharedFake<S> {
    /// A handle on `state`.
    pub fn with_state(state: S) -> Self {
        Self(Rc::new(RefCell::new(state)))
    }

    /// The state.
    pub fn state(&self) -> RefMut<'_, S> {
        self.0.borrow_mut()
    }
}

impl<S: FakeTool> SharedFake<S> {
    /// The calls made so far, then forgets them.
    pub fn take_calls(&self) -> Vec<String> {
        std::mem::take(self.0.borrow_mut().calls())
    }
}

impl<S: FakeTool> CommandRunner for SharedFake<S> {
    fn run(
        &mut self,
        program: &str,
        args: &[String],
        _timeout: Duration,
    ) -> io::Result<CommandOutput> {
        self.0.borrow_mut().answer(program, args)
    }
}

impl<S: FakeTool> Sleeper for SharedFake<S> {
    fn sleep(&mut self, duration: Duration) {
        self.0.borrow_mut().sleeps().push(duration);
    }
}
