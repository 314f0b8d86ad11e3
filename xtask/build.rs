// Empty: it exists so that cargo resolves the [build-dependencies] that
// xtask/Cargo.toml lists for their features (see there).
fn main() {}
