//! Integration tests: drive the `hunt` binary over real HTTP against the built-in emulator.
