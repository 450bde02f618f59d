//! Prints the parameter reference of every shader as markdown table rows (pasted into
//! `docs/shaders.md`): `cargo run --example shader_reference`.

use farm::render::params::Kind;
use farm::render::shaders::{ENCODER_EXPENSIVE, Shader, def};
use strum::IntoEnumIterator;

fn main() {
    for d in Shader::iter().map(def) {
        let params: Vec<String> = d
            .params
            .iter()
            .map(|p| {
                let range = match p.kind {
                    Kind::Num {
                        min, max, integer, ..
                    } => format!("{}{min}..{max}", if integer { "whole " } else { "" }),
                    Kind::Bool => "bool".to_string(),
                    Kind::Choice(n) => n.join(" \\| "),
                    Kind::Custom(c) => (c.expect)(),
                    _ => String::new(),
                };
                format!("`{}` ({}; {}): {}", p.name, p.default, range, p.help)
            })
            .collect();
        println!(
            "| `{}` | {} | {} | {} |",
            d.name(),
            if params.is_empty() {
                "-".to_string()
            } else {
                params.join("<br>")
            },
            d.help,
            if ENCODER_EXPENSIVE.contains(&d.shader) {
                "full"
            } else if d.shader == Shader::Vignette {
                "all"
            } else {
                "standard, full"
            }
        );
    }
}
