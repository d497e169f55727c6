//! The allowlist's parsers: single networks (`Cidr`), pasted bulk lines and CSV cells. Beyond
//! "never panics": a parsed network prints in canonical form and parses back to itself, a bulk
//! paste never accepts one network twice, and no CSV cell starts a spreadsheet formula.
#![no_main]

use keystone_dashboard::{
    domain::{parse_bulk, Cidr},
    server::export::csv_cell,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cidr) = Cidr::parse(text) {
        let shown = cidr.to_string();
        assert_eq!(Cidr::parse(&shown), Ok(cidr), "{shown} does not round-trip");
        assert!(cidr.covers(&cidr));
    }

    let mut accepted: Vec<Cidr> = Vec::new();
    for line in parse_bulk(text, &[]) {
        if let Ok((cidr, description)) = &line.outcome {
            assert!(!accepted.contains(cidr), "{cidr} accepted twice");
            accepted.push(*cidr);
            if let Some(description) = description {
                assert_safe_cell(&csv_cell(description));
            }
        }
    }
    assert_safe_cell(&csv_cell(text));
});

/// A cell is one field (quoted when it holds a separator) and never begins a formula.
fn assert_safe_cell(cell: &str) {
    let value = match cell.strip_prefix('"') {
        Some(quoted) => {
            let inner = quoted.strip_suffix('"').expect("a quoted cell is closed");
            assert!(
                !inner.replace("\"\"", "").contains('"'),
                "stray quote in {cell:?}"
            );
            inner.replace("\"\"", "\"")
        }
        None => {
            assert!(
                !cell.contains([',', '\n', '\r', '"']),
                "unquoted separator in {cell:?}"
            );
            cell.to_owned()
        }
    };
    assert!(
        !value.starts_with(['=', '+', '-', '@', '\t', '\r']),
        "formula cell {cell:?}"
    );
}
