//! A page's render and the reads it starts share Leptos's reactive owners across worker threads:
//! the render holds the root, each read's task a child. When a browser goes away mid-render (or
//! the server shuts down), the root is dropped on one thread while a read, on another, may be
//! looking up a context in it. reactive_graph 0.2.16 dropped the ancestors it had looked through
//! while still holding the reading owner's lock; when that was the ancestor's last reference, its
//! cleanup waited on that same lock and the worker thread hung for good (seen once in CI, at a test
//! runtime's shutdown). `vendor/reactive_graph` carries the fix; these tests hold it.

use std::{
    sync::{mpsc, Arc, Barrier},
    thread,
    time::Duration,
};

use leptos::prelude::{provide_context, update_context, with_context, Owner};

#[derive(Clone)]
struct RequestContext;

/// Runs `lookup` on a child of a root that provides [`RequestContext`]; while `lookup` is inside
/// the root (its callback running), the test drops every other reference to the root, then holds
/// that the lookup's thread finishes.
fn lookup_while_the_root_goes(lookup: fn(&Barrier)) {
    let root = Owner::new_root(None);
    root.with(|| provide_context(RequestContext));
    let child = root.child();
    let inside = Arc::new(Barrier::new(2));
    let (finished, finished_rx) = mpsc::channel();
    thread::spawn({
        let inside = Arc::clone(&inside);
        move || {
            child.with(|| lookup(&inside));
            finished.send(()).unwrap();
        }
    });
    inside.wait(); // the lookup holds the root
    drop(root); // the render goes: the lookup now holds the root's last reference
    inside.wait(); // let the lookup return
    assert!(
        finished_rx.recv_timeout(Duration::from_secs(5)).is_ok(),
        "the lookup's thread hung when the root's last reference went"
    );
}

#[test]
fn a_read_looking_up_context_while_the_render_is_dropped_does_not_hang() {
    lookup_while_the_root_goes(|inside| {
        let found = with_context::<RequestContext, _>(|_| {
            inside.wait();
            inside.wait();
        });
        assert!(found.is_some(), "the context is found in the root");
    });
}

#[test]
fn a_read_updating_context_while_the_render_is_dropped_does_not_hang() {
    lookup_while_the_root_goes(|inside| {
        let found = update_context::<RequestContext, _>(|_| {
            inside.wait();
            inside.wait();
        });
        assert!(found.is_some(), "the context is found in the root");
    });
}
