//! The exports through which a host runs a merged module: the exit code,
//! captured stdio, stdin, and memory to hand data over in. Their names are
//! [`wasi_virt_abi::names::host_api`]; the `wasi-virt` test harness, the
//! Node runner and the generated JS all use them.

use alloc::alloc::{Layout, alloc, dealloc};

use crate::{process, stdio};

#[unsafe(export_name = "wasi_virt_exit_code")]
extern "C" fn exit_code() -> i32 {
    process::exit_code().map_or(-1, |c| c as i32)
}

#[unsafe(export_name = "wasi_virt_stdout_ptr")]
extern "C" fn stdout_ptr() -> i32 {
    stdio::STDOUT.raw_parts().0 as i32
}

#[unsafe(export_name = "wasi_virt_stdout_len")]
extern "C" fn stdout_len() -> i32 {
    stdio::STDOUT.raw_parts().1 as i32
}

#[unsafe(export_name = "wasi_virt_stderr_ptr")]
extern "C" fn stderr_ptr() -> i32 {
    stdio::STDERR.raw_parts().0 as i32
}

#[unsafe(export_name = "wasi_virt_stderr_len")]
extern "C" fn stderr_len() -> i32 {
    stdio::STDERR.raw_parts().1 as i32
}

#[unsafe(export_name = "wasi_virt_clear")]
extern "C" fn clear() {
    stdio::STDOUT.clear();
    stdio::STDERR.clear();
    process::clear_exit_code();
}

fn layout(len: i32) -> Option<Layout> {
    Layout::from_size_align(len.max(1) as usize, 8).ok()
}

#[unsafe(export_name = "wasi_virt_alloc")]
extern "C" fn host_alloc(len: i32) -> i32 {
    match layout(len) {
        // SAFETY: the layout has a non-zero size.
        Some(l) => unsafe { alloc(l) as i32 },
        None => 0,
    }
}

#[unsafe(export_name = "wasi_virt_free")]
extern "C" fn host_free(ptr: i32, len: i32) {
    if let (Some(l), false) = (layout(len), ptr == 0) {
        // SAFETY: the host hands back what `wasi_virt_alloc(len)` returned.
        unsafe { dealloc(ptr as *mut u8, l) }
    }
}

#[unsafe(export_name = "wasi_virt_set_stdin")]
extern "C" fn set_stdin(ptr: i32, len: i32) {
    // SAFETY: the host passes memory it filled after `wasi_virt_alloc`.
    let bytes = unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) };
    stdio::STDIN.set(bytes);
}
