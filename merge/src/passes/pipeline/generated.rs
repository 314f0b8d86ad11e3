//! Stubs and `pack`'s data through the whole merge.

use crate::passes::fixtures::Fixture;
use crate::passes::merge;
use crate::types::{Extras, PackData, Strategy, Stubs};

fn instantiate(bytes: &[u8]) -> (wasmi::Store<()>, wasmi::Instance) {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, bytes).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .unwrap();
    (store, instance)
}

/// A target import and a guest passthrough import, both stubbed: the
/// output imports nothing; the target still keeps its indices (its stub
/// is a trampoline) and runs; calling the stub traps.
#[test]
fn stubbed_imports_leave_no_import_and_trap_when_called() {
    let built = Fixture {
        guest_imports: r#"(import "wasi-virt:passthrough" "random_get" (func $r (param i32 i32) (result i32)))"#
            .into(),
        guest_items: r#"(func (export "host_random") (result i32) (call $r (i32.const 0) (i32.const 0)))"#
            .into(),
        target_imports: r#"(import "js" "alert" (func $alert))"#.into(),
        target_items: r#"(func (export "alert") (call $alert))"#.into(),
    ..Fixture::default()
    }
    .build();
    let parsed = built.parse();
    let mut stubs = Stubs::default();
    stubs.target_modules.insert("js".into());
    stubs
        .guest
        .insert(("wasi-virt:passthrough".into(), "random_get".into()));
    let extras = Extras {
        stubs,
        target_exports: vec![("app_alert".into(), "alert".into())],
        hidden_exports: vec!["written".into()],
        ..Extras::default()
    };
    let (bytes, _) = merge(
        &parsed.guest,
        &parsed.manifest,
        &parsed.targets,
        extras,
        Strategy::Flags,
    )
    .unwrap();
    let out = crate::module::Module::parse("out.wasm", &bytes).unwrap();
    assert!(out.imports.is_empty());
    let names: Vec<&str> = out.exports.iter().map(|e| e.name).collect();
    assert_eq!(names, ["memory", "run", "host_random", "app_alert"]);
    let (mut store, instance) = instantiate(&bytes);
    let call = |store: &mut wasmi::Store<()>, name: &str| {
        instance
            .get_typed_func::<(), ()>(&*store, name)
            .unwrap()
            .call(store, ())
    };
    call(&mut store, "run").unwrap();
    assert!(call(&mut store, "app_alert").is_err());
    let random = instance
        .get_typed_func::<(), i32>(&store, "host_random")
        .unwrap();
    assert!(random.call(&mut store, ()).is_err());
}

#[test]
fn pack_imports_need_pack_data() {
    let built = Fixture {
        guest_imports: r#"(import "wasi-virt:pack" "config_len" (func $len (result i32)))"#.into(),
        guest_items: r#"(func (export "len") (result i32) (call $len))"#.into(),
        ..Fixture::default()
    }
    .build();
    let parsed = built.parse();
    let err = parsed.merge().unwrap_err().to_string();
    assert!(err.contains("only `wasi-virt pack` provides"), "{err}");
    let extras = Extras {
        pack: Some(PackData {
            config: b"config".to_vec(),
            blob: b"blob".to_vec(),
        }),
        ..Extras::default()
    };
    let (bytes, _) = merge(
        &parsed.guest,
        &parsed.manifest,
        &parsed.targets,
        extras,
        Strategy::Flags,
    )
    .unwrap();
    let (mut store, instance) = instantiate(&bytes);
    let len = instance.get_typed_func::<(), i32>(&store, "len").unwrap();
    assert_eq!(len.call(&mut store, ()).unwrap(), 6);
}
