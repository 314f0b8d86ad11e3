//! Tests of the whole pipeline, from input bytes to a module run in wasmi:
//! what no single pass's test can show. Each pass's own test builds its
//! inputs by hand, in the pass's file.

mod control;
mod generated;
mod merge;
mod reset;
