//! The case-file loader on arbitrary text: it must never panic, and every
//! error it reports must carry a location (`file:line:column`), since a user
//! can only fix what the message points at.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("cases/fuzz/input.yaml");
    if let Err(diagnostics) = metaconform::cases::load_str(path, text) {
        assert!(!diagnostics.is_empty(), "an error without a diagnostic");
        for d in &diagnostics {
            assert_eq!(d.file, path, "diagnostic names another file: {d}");
            assert!(d.line > 0 && d.column > 0, "diagnostic without a location: {d}");
            // rendering must not panic either
            let _ = d.to_string();
        }
    }
});
