//! A panic inside a cell (an input no check foresaw, a bug in a backend) becomes that cell's
//! failure, with the panic's message, instead of taking the runner and the rest of the grid down.
//!
//! [`install_hook`] replaces Rust's default panic output (which ends with a hint about
//! backtraces): while cells run, a panic prints nothing, because the failed cell's record and log
//! line carry its message; elsewhere it prints one `error:` line. `RUST_BACKTRACE` restores the
//! default output for debugging.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe, PanicHookInfo};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Cells inside [`catch_cell`] right now, in any thread.
static CELLS_RUNNING: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The last panic of this thread, with its location (the payload has only the message).
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the panic hook described in the module documentation.
pub fn install_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = describe(info);
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(message.clone()));
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            default(info);
        } else if CELLS_RUNNING.load(Ordering::SeqCst) == 0 {
            eprintln!("error: internal error (a bug in dmlft; please report it): {message}");
        }
    }));
}

/// Runs `f`; a panic comes back as `Err(message)`.
pub fn catch_cell<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    CELLS_RUNNING.fetch_add(1, Ordering::SeqCst);
    LAST_PANIC.with(|last| last.borrow_mut().take());
    let result = catch_unwind(AssertUnwindSafe(f));
    CELLS_RUNNING.fetch_sub(1, Ordering::SeqCst);
    result.map_err(|payload| {
        // the hook's message has the location when the panic happened on this thread; a panic
        // on a backend's worker thread arrives here with its payload only
        LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| payload_message(payload.as_ref()))
    })
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let message = payload_message(info.payload());
    match info.location() {
        Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
        None => message,
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
pub fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_values_pass_through() {
        assert_eq!(catch_cell(|| 7), Ok(7));
        let err = catch_cell(|| {
            let v: Vec<u8> = Vec::new();
            v[3]
        })
        .unwrap_err();
        assert!(err.contains("index out of bounds"), "{err}");
        let err = catch_cell(|| std::panic::panic_any(5u8)).unwrap_err();
        assert_eq!(err, "a panic without a message");
        // a panic on another thread, joined and resumed here, keeps its message
        let err = catch_cell(|| {
            let h = std::thread::spawn(|| panic!("from a worker"));
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        })
        .unwrap_err();
        assert!(err.contains("from a worker"), "{err}");
        assert_eq!(CELLS_RUNNING.load(Ordering::SeqCst), 0);
    }
}
