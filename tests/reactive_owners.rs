//! A page's render and the reads it starts share Leptos's reactive owners across worker threads:
//! the render holds the root, each read's task a child. When a browser goes away mid-render (or
//! the server shuts down), the root is dropped on one thread while a read, on another, may be
//! looking up a context in it. reactive_graph 0.2.16 let go of the ancestors it had looked through
//! while still holding the reading owner's lock; when that was an ancestor's last reference, its
//! cleanup waited on that same lock and the worker thread hung for good (seen once in CI, at a test
//! runtime's shutdown). `vendor/reactive_graph` carries the fix; these tests hold it for the
//! lookups that run caller code while inside an ancestor (`take_context` runs none, so no test can
//! hold it there: vendor/README.md).

use std::{
    sync::mpsc::{self, RecvTimeoutError},
    thread::{self, ThreadId},
    time::Duration,
};

use leptos::prelude::{provide_context, update_context, with_context, Owner};

#[derive(Clone)]
struct RequestContext;

const PATIENCE: Duration = Duration::from_secs(5);

/// Hands control between the test and the lookup's thread, waiting at most [`PATIENCE`].
struct Handover {
    inside: mpsc::Sender<()>,
    go_on: mpsc::Receiver<()>,
}

impl Handover {
    /// Called by the lookup from inside the root: tells the test, then waits for its go-ahead.
    fn inside_the_root(&self) {
        self.inside.send(()).unwrap();
        self.go_on
            .recv_timeout(PATIENCE)
            .expect("the test let the lookup go on");
    }
}

/// Runs `lookup` on a child of a root that provides [`RequestContext`]. While `lookup` is inside
/// the root (its callback running), the test drops its own reference to the root, the only other
/// one. It then holds that the root's cleanup ran on the lookup's thread (the lookup held the last
/// reference, the case that hung) and that the lookup's thread finished.
fn lookup_while_the_root_goes(lookup: fn(&Handover)) {
    let root = Owner::new_root(None);
    let (cleaned_up_on, cleaned_up_on_rx) = mpsc::channel::<ThreadId>();
    root.with(|| {
        provide_context(RequestContext);
        Owner::on_cleanup(move || cleaned_up_on.send(thread::current().id()).unwrap());
    });
    let child = root.child();
    let (inside, inside_rx) = mpsc::channel();
    let (go_on, go_on_rx) = mpsc::channel();
    let (finished, finished_rx) = mpsc::channel();
    let lookup_thread = thread::spawn(move || {
        let handover = Handover {
            inside,
            go_on: go_on_rx,
        };
        child.with(|| lookup(&handover));
        finished.send(()).unwrap();
    })
    .thread()
    .id();
    inside_rx
        .recv_timeout(PATIENCE)
        .expect("the lookup found the context in the root and is inside it");
    drop(root);
    go_on.send(()).unwrap();
    match finished_rx.recv_timeout(PATIENCE) {
        Ok(()) => {}
        Err(RecvTimeoutError::Timeout) => {
            panic!("the lookup's thread hung when the root's last reference went")
        }
        Err(RecvTimeoutError::Disconnected) => panic!("the lookup's thread panicked"),
    }
    assert_eq!(
        cleaned_up_on_rx.recv_timeout(PATIENCE),
        Ok(lookup_thread),
        "the root was let go of last by the lookup, on its own thread"
    );
}

#[test]
fn a_read_looking_up_context_while_the_render_is_dropped_does_not_hang() {
    lookup_while_the_root_goes(|handover| {
        let found = with_context::<RequestContext, _>(|_| handover.inside_the_root());
        assert!(found.is_some(), "the context is found in the root");
    });
}

#[test]
fn a_read_updating_context_while_the_render_is_dropped_does_not_hang() {
    lookup_while_the_root_goes(|handover| {
        let found = update_context::<RequestContext, _>(|_| handover.inside_the_root());
        assert!(found.is_some(), "the context is found in the root");
    });
}
