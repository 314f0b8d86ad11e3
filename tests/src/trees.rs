//! Generated folders for the benchmarks of `pack`.

use std::fs;
use std::path::Path;

use anyhow::Result;

/// How many files [`big_tree`] writes.
pub const BIG_TREE_FILES: usize = 5_000;
/// In how many folders.
const BIG_TREE_DIRS: usize = 50;
/// How many bytes in all.
pub const BIG_TREE_BYTES: usize = 100 << 20;

/// 5,000 files of 20 KiB or so (100 MiB in all) in 50 folders, of
/// incompressible bytes (a xorshift stream), the same on every machine.
pub fn big_tree(root: &Path) -> Result<()> {
    let per_file = BIG_TREE_BYTES / BIG_TREE_FILES;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = vec![0u8; per_file];
    for d in 0..BIG_TREE_DIRS {
        let dir = root.join(format!("d{d:04}"));
        fs::create_dir_all(&dir)?;
        for f in 0..BIG_TREE_FILES / BIG_TREE_DIRS {
            for chunk in bytes.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
            }
            fs::write(dir.join(format!("f{f:04}.bin")), &bytes)?;
        }
    }
    Ok(())
}
