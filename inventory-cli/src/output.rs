//! Printing: JSON for scripts, aligned tables and trees for people.

use std::io::Write;

use inventory_db::TreeNode;
use serde::Serialize;

use crate::error::CliError;

/// Prints `value` as pretty JSON on stdout, followed by a newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints rows under a header, each column padded to its widest cell; the last column is
/// not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let header: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count());
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Writes `text` to stdout as it is.
pub fn text(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// One line of a tree: `Name (TYPE) #id`.
pub fn tree_label(node: &TreeNode) -> String {
    format!(
        "{} ({}) #{}",
        node.location.name, node.location.location_type, node.location.id
    )
}

/// Renders trees with box-drawing branches: each top node flush left, its descendants
/// under `├── `, `└── ` and `│   `.
pub fn render_tree(roots: &[TreeNode]) -> String {
    let mut out = String::new();
    for root in roots {
        out.push_str(&tree_label(root));
        out.push('\n');
        render_children(&root.children, "", &mut out);
    }
    out
}

fn render_children(children: &[TreeNode], prefix: &str, out: &mut String) {
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&tree_label(child));
        out.push('\n');
        let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
        render_children(&child.children, &deeper, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use inventory_core::LocationType;
    use inventory_db::Location;

    fn node(id: i64, name: &str, kind: LocationType, children: Vec<TreeNode>) -> TreeNode {
        TreeNode {
            location: Location {
                id,
                name: name.into(),
                description: None,
                location_type: kind,
                parent_id: None,
                full_path: name.into(),
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            children,
        }
    }

    #[test]
    fn tree_uses_box_drawing_branches() {
        let tree = node(
            1,
            "My House",
            LocationType::House,
            vec![
                node(
                    2,
                    "Kitchen",
                    LocationType::Room,
                    vec![node(4, "Pantry", LocationType::Container, vec![])],
                ),
                node(3, "Office", LocationType::Room, vec![]),
            ],
        );
        assert_eq!(
            render_tree(&[tree]),
            "My House (HOUSE) #1\n├── Kitchen (ROOM) #2\n│   └── Pantry (CONTAINER) #4\n└── Office (ROOM) #3\n"
        );
    }
}
