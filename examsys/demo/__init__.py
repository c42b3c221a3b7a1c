"""Demo world and demo content.

``data/`` holds the demo content for 电工 (national occupational standard 6-31-01-03, 2018
edition) at 四级/中级工:

* ``electrician_6-31-01-03_tree.json`` -- the knowledge tree (鉴定要素细目表): ranges with
  per-level weights (percent of the theory paper; keys are level numbers as strings) and
  assessment points (鉴定点) with importance X/Y/Z and the levels they apply to.
* ``knowledge_tree_example.xlsx`` -- the same tree as an Excel import template example, built by
  ``build_tree_xlsx.py``; the layout is documented in docs/knowledge-tree-template.md.
* ``electrician_6-31-01-03_items.json`` -- the item bank, ``{"items": [...]}``, each item with
  id, qtype, kp (assessment point code), levels, difficulty (1-5), points, content (as in
  CONTENT_FORMAT.md) and status (approved/submitted/returned/draft); returned items carry
  ``return_comment`` = [{"field", "comment"}]; some items carry ``history`` = earlier versions,
  oldest first, each {"content", "note", "author"} where ``note`` says what was changed after
  that version; a few carry ``near_duplicate_of`` (the id of the item they reword).
  The file is generated from the authored chunks in ``items/*.py`` by ``build_items.py``.
"""
