//! One file per subcommand, each with its clap `Opts` and a `run`.

pub mod inspect;
pub mod merge;
pub mod output;
pub mod pack;
