//! Pass 7d: the body of the output's start wrapper, when it has one: the
//! functions run control needs first (`init` of targets that can be reset),
//! then every input's start function in order, targets first.

use anyhow::{Result, anyhow};
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{Function, Instruction};

use super::layout::Plan;
use crate::index::{Remap, at};
use crate::module::Module;

/// Writes the start wrapper's body, if the plan has a start wrapper.
pub fn run(plan: &mut Plan, modules: &[&Module]) -> Result<()> {
    let Some(wrapper) = plan.start.wrapper else {
        return Ok(());
    };
    let mut f = Function::new([]);
    for &first in &plan.start.first {
        f.instruction(&Instruction::Call(first));
    }
    for &(mi, func) in &plan.start.calls {
        let mut remap = Remap {
            map: &plan.maps[mi],
        };
        let index = remap.function_index(func).map_err(|e| at(modules[mi], e))?;
        f.instruction(&Instruction::Call(index));
    }
    f.instruction(&Instruction::End);
    plan.new_func_mut(wrapper)
        .ok_or_else(|| {
            anyhow!("internal error: the start wrapper {wrapper} is not a new function")
        })?
        .body = Some(f);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::fixtures::wasm;
    use crate::passes::layout::{FuncKind, Plan};

    #[test]
    fn the_wrapper_calls_control_first_then_each_start_in_order() {
        let target = wasm("(module (func $a) (func $s (nop)) (start $s))");
        let guest = wasm("(module (func $s) (start $s))");
        let target = Module::parse("app.wasm", &target).unwrap();
        let guest = Module::parse("vfs.wasm", &guest).unwrap();
        let modules = [&target, &guest];
        let roles = vec![Vec::new(), Vec::new()];
        let mut plan = crate::passes::layout::run(&modules, &roles, Default::default());
        let wrapper = plan
            .start
            .wrapper
            .expect("two start functions get a wrapper");
        assert_eq!(
            plan.funcs.last().map(|f| f.kind),
            Some(FuncKind::StartWrapper)
        );
        let init = plan.add_func(0, FuncKind::Control);
        plan.start.first.push(init);
        run(&mut plan, &modules).unwrap();
        let mut expected = Function::new([]);
        // init, the target's `$s` (function 1), the guest's (output function 2).
        for call in [init, 1, 2] {
            expected.instruction(&Instruction::Call(call));
        }
        expected.instruction(&Instruction::End);
        let body = plan.new_func_mut(wrapper).unwrap().body.clone();
        assert_eq!(body, Some(expected));
        let _: &Plan = &plan;
    }
}
