"""The verbs, library side: one module per command (register, promote, history, gc, copy, verify, ...).

Each builds on the core (layout, manifest, yamlio, gitrepo, snapshot, registry) and on storage; the CLI
calls them and prints what they return."""
