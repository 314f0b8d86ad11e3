//! The smallest useful target: prints one line.

fn main() {
    println!("Hello, world!");
}
