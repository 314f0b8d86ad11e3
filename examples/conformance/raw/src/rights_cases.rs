//! `conformance-raw rights CHECK`: one check of the rights preview1 says a
//! function needs. The fd first loses exactly that right
//! (`fd_fdstat_set_rights`) and makes the call, which must be refused;
//! then a fresh fd with every right makes the same call, which must not
//! be. Each run starts from a scratch folder `/tmp/r` holding a file `f`
//! ("abc"), a directory `d` and a symlink `s` → `f`.

use crate::sys;
use crate::w::*;

/// What a check calls the function through.
#[derive(Clone, Copy)]
enum On {
    /// The directory fd of `/tmp/r`.
    Dir,
    /// `/tmp/r/f`, opened for reading and writing.
    File,
}

/// Where a right is taken from.
#[derive(Clone, Copy)]
enum Set {
    Base,
    Inheriting,
}

struct Check {
    name: &'static str,
    right: (&'static str, u64),
    on: On,
    set: Set,
    call: fn(u32) -> R<()>,
}

const fn check(
    name: &'static str,
    right: (&'static str, u64),
    on: On,
    call: fn(u32) -> R<()>,
) -> Check {
    Check {
        name,
        right,
        on,
        set: Set::Base,
        call,
    }
}

const fn inheriting(check: Check) -> Check {
    Check {
        set: Set::Inheriting,
        ..check
    }
}

const ALL: u64 = rights::ALL;

fn opened(r: R<u32>) -> R<()> {
    close(r?)
}

fn bytes(path: &str) -> (*const u8, u32) {
    (path.as_ptr(), path.len() as u32)
}

const CHECKS: &[Check] = &[
    check(
        "path_open_trunc",
        ("PATH_FILESTAT_SET_SIZE", 1 << 19),
        On::Dir,
        |d| opened(open(d, 0, "f", TRUNC, ALL, 0)),
    ),
    check(
        "path_open_creat",
        ("PATH_CREATE_FILE", 1 << 10),
        On::Dir,
        |d| opened(open(d, 0, "new", CREAT, ALL, 0)),
    ),
    check("path_open", ("PATH_OPEN", 1 << 13), On::Dir, |d| {
        opened(open(d, 0, "f", 0, rights::FD_READ, 0))
    }),
    inheriting(check(
        "path_open_dsync",
        ("FD_DATASYNC", 1 << 0),
        On::Dir,
        |d| opened(open(d, 0, "f", 0, ALL, DSYNC)),
    )),
    inheriting(check("path_open_sync", ("FD_SYNC", 1 << 4), On::Dir, |d| {
        opened(open(d, 0, "f", 0, ALL, SYNC))
    })),
    check("fd_readdir", ("FD_READDIR", 1 << 14), On::Dir, |d| {
        readdir_raw(d, 256, 0).map(|_| ())
    }),
    check(
        "path_create_directory",
        ("PATH_CREATE_DIRECTORY", 1 << 9),
        On::Dir,
        |d| mkdir(d, "made"),
    ),
    check(
        "path_filestat_get",
        ("PATH_FILESTAT_GET", 1 << 18),
        On::Dir,
        |d| path_stat(d, 0, "f").map(|_| ()),
    ),
    check(
        "path_filestat_set_times",
        ("PATH_FILESTAT_SET_TIMES", 1 << 20),
        On::Dir,
        |d| {
            let (p, n) = bytes("f");
            ck(unsafe { sys::path_filestat_set_times(d, 0, p, n, 5, 6, 1 | 4) })
        },
    ),
    check(
        "path_link_source",
        ("PATH_LINK_SOURCE", 1 << 11),
        On::Dir,
        |d| link(d, 0, "f", d, "linked"),
    ),
    check(
        "path_link_target",
        ("PATH_LINK_TARGET", 1 << 12),
        On::Dir,
        |d| link(d, 0, "f", d, "linked"),
    ),
    check("path_readlink", ("PATH_READLINK", 1 << 15), On::Dir, |d| {
        readlink(d, "s", 64).map(|_| ())
    }),
    check(
        "path_rename_source",
        ("PATH_RENAME_SOURCE", 1 << 16),
        On::Dir,
        |d| rename(d, "f", d, "renamed"),
    ),
    check(
        "path_rename_target",
        ("PATH_RENAME_TARGET", 1 << 17),
        On::Dir,
        |d| rename(d, "f", d, "renamed"),
    ),
    check("path_symlink", ("PATH_SYMLINK", 1 << 24), On::Dir, |d| {
        symlink("f", d, "s2")
    }),
    check(
        "path_remove_directory",
        ("PATH_REMOVE_DIRECTORY", 1 << 25),
        On::Dir,
        |d| rmdir(d, "d"),
    ),
    check(
        "path_unlink_file",
        ("PATH_UNLINK_FILE", 1 << 26),
        On::Dir,
        |d| unlink(d, "s"),
    ),
    check("fd_read", ("FD_READ", 1 << 1), On::File, |f| {
        read(f, &[2]).map(|_| ())
    }),
    check("fd_write", ("FD_WRITE", 1 << 6), On::File, |f| {
        write(f, &[b"W"]).map(|_| ())
    }),
    check("fd_seek", ("FD_SEEK", 1 << 2), On::File, |f| {
        seek(f, 1, 0).map(|_| ())
    }),
    check("fd_tell", ("FD_TELL", 1 << 5), On::File, |f| {
        tell(f).map(|_| ())
    }),
    check("fd_advise", ("FD_ADVISE", 1 << 7), On::File, |f| {
        ck(unsafe { sys::fd_advise(f, 0, 1, 0) })
    }),
    check("fd_allocate", ("FD_ALLOCATE", 1 << 8), On::File, |f| {
        ck(unsafe { sys::fd_allocate(f, 0, 2) })
    }),
    check("fd_datasync", ("FD_DATASYNC", 1 << 0), On::File, |f| {
        ck(unsafe { sys::fd_datasync(f) })
    }),
    check("fd_sync", ("FD_SYNC", 1 << 4), On::File, |f| {
        ck(unsafe { sys::fd_sync(f) })
    }),
    check(
        "fd_fdstat_set_flags",
        ("FD_FDSTAT_SET_FLAGS", 1 << 3),
        On::File,
        |f| ck(unsafe { sys::fd_fdstat_set_flags(f, APPEND) }),
    ),
    check(
        "fd_filestat_get",
        ("FD_FILESTAT_GET", 1 << 21),
        On::File,
        |f| filestat(f).map(|_| ()),
    ),
    check(
        "fd_filestat_set_size",
        ("FD_FILESTAT_SET_SIZE", 1 << 22),
        On::File,
        |f| ck(unsafe { sys::fd_filestat_set_size(f, 1) }),
    ),
    check(
        "fd_filestat_set_times",
        ("FD_FILESTAT_SET_TIMES", 1 << 23),
        On::File,
        |f| ck(unsafe { sys::fd_filestat_set_times(f, 5, 6, 1 | 4) }),
    ),
];

fn fresh(on: On) -> u32 {
    match on {
        On::Dir => open(TMP, 0, "r", DIRECTORY, rights::DIR, 0),
        On::File => open(TMP, 0, "r/f", 0, ALL, 0),
    }
    .expect("open the scratch folder")
}

/// Runs the check named by the second argument.
pub fn rights_check() {
    let name = std::env::args().nth(2).unwrap_or_default();
    let Some(check) = CHECKS.iter().find(|c| c.name == name) else {
        eprintln!("unknown rights check {name:?}");
        std::process::exit(2);
    };
    mkdir(TMP, "r").unwrap();
    let f = open(TMP, 0, "r/f", CREAT, ALL, 0).unwrap();
    write(f, &[b"abc"]).unwrap();
    close(f).unwrap();
    mkdir(TMP, "r/d").unwrap();
    symlink("f", TMP, "r/s").unwrap();

    let (right_name, right) = check.right;
    let fd = fresh(check.on);
    let st = fdstat(fd).unwrap();
    let dropped = match check.set {
        Set::Base => ck(unsafe { sys::fd_fdstat_set_rights(fd, st.base & !right, st.inheriting) }),
        Set::Inheriting => {
            ck(unsafe { sys::fd_fdstat_set_rights(fd, st.base, st.inheriting & !right) })
        }
    };
    let label = format!("{name} without {right_name}");
    match dropped {
        Ok(()) => done(&label, (check.call)(fd)),
        Err(e) => println!("{label}: cannot drop it: {e:?}"),
    }
    close(fd).unwrap();
    let fd = fresh(check.on);
    done(&format!("{name} with it"), (check.call)(fd));
}
