//! docs/conformance.md tells the truth about what the code derives from one
//! table.

use wasi_virt_tests::repo_root;

const START: &str = "<!-- preview1-table:start -->\n";
const END: &str = "<!-- preview1-table:end -->";

/// The table of the 46 preview1 functions in `docs/conformance.md` is the one
/// `wasi_virt_abi::preview1::markdown_table` generates; `BLESS=1` rewrites it.
#[test]
fn readme_preview1_table_is_generated_from_the_abi_table() {
    let path = repo_root().join("docs/conformance.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(START)
        .expect("docs/conformance.md lacks the table start marker")
        + START.len();
    let end = readme
        .find(END)
        .expect("docs/conformance.md lacks the table end marker");
    let table = wasi_virt_abi::preview1::markdown_table();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(
            &path,
            format!("{}{table}{}", &readme[..start], &readme[end..]),
        )
        .unwrap();
        return;
    }
    assert_eq!(
        readme[start..end],
        table,
        "run `BLESS=1 cargo test -p wasi-virt-tests --test readme`"
    );
    assert_eq!(table.lines().count(), 2 + 46);
}
