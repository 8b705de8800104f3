"""Declared renames (`renamed_from:`): ALTER ... RENAME, never drop + add.

A pre-pass of the differ. Each declared rename whose old name exists in the live database
becomes one RENAME statement, and the object is renamed in the live snapshot's inspector the
way Postgres renames it, so that the comparison after it sees equal objects and plans nothing
more for them. Names derived from a renamed table or column (`users_pkey`, `users_email_key`,
`users_id_seq`) follow it when the spec's derived name is the renamed one.

A rename whose old name is gone and whose new name exists is done already: nothing happens, so
the spec may keep `renamed_from`. Both names existing at once is an error at plan time that
points at the spec line. Texts that embed renamed names (a CHECK, a foreign key, an index
expression, a trigger, a default) are compared parsed, with the renames applied (sqlread).
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from schemadiff import sqlread
from schemadiff.errors import Location, Problem, SpecError

KINDS = ("table", "column", "enum", "enum_value", "function", "constraint", "index")


@dataclass(frozen=True)
class Rename:
    """One `renamed_from:` of the spec."""

    kind: str  # table | column | enum | function | constraint | index
    schema: str
    old: str
    new: str
    loc: Location
    table: str | None = None  # the (new) table of a column, constraint or index


@dataclass(frozen=True)
class Statement:
    """One RENAME statement: the kind and (new, quoted) name of what it renames."""

    kind: str
    name: str
    sql: str


def declared(spec: Any) -> list[Rename]:
    """Every `renamed_from` of a spec, tables first (the others name the new table)."""
    out: list[Rename] = []
    schema = spec.schema

    def add(kind: str, node: Any, table: str | None = None) -> None:
        old = getattr(node, "renamed_from", None)
        if old and node.name:
            out.append(Rename(kind, schema, old, node.name, node.loc, table))

    for t in spec.tables:
        add("table", t)
    for t in spec.tables:
        for c in t.columns:
            add("column", c, t.name)
        constraints = [t.primary_key, *t.uniques, *t.foreign_keys, *t.checks]
        for con in constraints:
            if con is not None:
                add("constraint", con, t.name)
        for ix in t.indexes:
            add("index", ix, t.name)
    for e in spec.enums:
        add("enum", e)
        for new, old in getattr(e, "renamed_values", {}).items():
            out.append(Rename("enum_value", schema, old, new, e.loc, e.name))
    for f in spec.functions:
        add("function", f)
    return sorted(out, key=lambda r: KINDS.index(r.kind))


def quoted(*names: str) -> str:
    """"a"."b" the way schemainspect keys objects."""
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


def _ident(name: str) -> str:
    """An identifier as format('%I') writes it (the comments' keys are written so)."""
    from schemadiff.sqltext import quote

    return quote(name)


def _rekey(d: MutableMapping[str, Any], old: str, new: str) -> None:
    """Rename a key in place, keeping the order (migra's output follows it)."""
    if old not in d or old == new:
        return
    items = [(new if k == old else k, v) for k, v in d.items()]
    d.clear()
    d.update(items)


def _rekey_prefix(d: MutableMapping[str, Any], old: str, new: str) -> None:
    for key in [k for k in d if k.startswith(old)]:
        _rekey(d, key, new + key[len(old) :])


def _replace(items: list[str] | None, old: str, new: str) -> list[str] | None:
    return None if items is None else [new if x == old else x for x in items]


class _Renamer:
    def __init__(
        self, a: Any, b: Any, comments: dict[str, str | None], rows: Any, renames: list[Rename]
    ) -> None:
        self.a, self.b, self.comments, self.rows = a, b, comments, rows
        self.renames = renames
        self.names = sqlread.Renames()
        self.out: list[Statement] = []

    def _exists(self, r: Rename, old: bool, new: bool) -> bool:
        """Whether to rename: the old name is there (and the new one is not)."""
        if old and new:
            raise SpecError(
                [
                    Problem(
                        r.loc,
                        f"renamed_from: both {r.kind} '{r.old}' and '{r.new}' exist in the "
                        f"database, so the rename is ambiguous; drop one of them, or remove "
                        f"renamed_from",
                    )
                ]
            )
        return old

    def run(self) -> list[Statement]:
        for r in self.renames:
            getattr(self, f"_{r.kind}")(r)
        self._derived_names()
        if self.names:
            self._adopt_equivalent_texts()
        return self.out

    # -- one method per kind --------------------------------------------------------------

    def _table(self, r: Rename) -> None:
        a = self.a
        ok, nk = quoted(r.schema, r.old), quoted(r.schema, r.new)
        if not self._exists(r, ok in a.tables, nk in a.tables):
            return
        self.out.append(Statement("table", nk, f"ALTER TABLE {ok} RENAME TO {quoted(r.new)}"))
        a.tables[ok].name = r.new
        for attr in ("tables", "selectables", "relations"):
            _rekey(getattr(a, attr), ok, nk)
        for ix in a.indexes.values():
            if ix.schema == r.schema and ix.table_name == r.old:
                ix.table_name = r.new
        for key, c in list(a.constraints.items()):
            if c.schema == r.schema and c.table_name == r.old:
                c.table_name = r.new
                _rekey(a.constraints, key, c.quoted_full_name)
            if c.quoted_full_foreign_table_name == ok:
                c.quoted_full_foreign_table_name = nk
        for key, tg in list(a.triggers.items()):
            if tg.schema == r.schema and tg.table_name == r.old:
                tg.table_name = r.new
                tg.dependent_on = [nk]
                _rekey(a.triggers, key, tg.quoted_full_name)
        for sq in a.sequences.values():
            if sq.schema == r.schema and sq.table_name == r.old:
                sq.table_name = r.new
        for obj in [*a.enums.values(), *a.selectables.values()]:
            for attr in ("dependents", "dependent_on"):
                if isinstance(getattr(obj, attr, None), list):
                    setattr(obj, attr, [nk if d == ok else d for d in getattr(obj, attr)])
        old_t = f"{_ident(r.schema)}.{_ident(r.old)}"
        new_t = f"{_ident(r.schema)}.{_ident(r.new)}"
        _rekey(self.comments, f"TABLE {old_t}", f"TABLE {new_t}")
        _rekey_prefix(self.comments, f"COLUMN {old_t}.", f"COLUMN {new_t}.")
        for kind in ("CONSTRAINT", "TRIGGER"):
            for key in [k for k in self.comments if k.startswith(kind) and k.endswith(old_t)]:
                _rekey(self.comments, key, key[: len(key) - len(old_t)] + new_t)
        self.rows.rename(ok, nk)
        self.names.tables[r.old] = r.new

    def _column(self, r: Rename) -> None:
        a, table = self.a, r.table or ""
        tk = quoted(r.schema, table)
        t = a.tables.get(tk)
        if t is None or not self._exists(r, r.old in t.columns, r.new in t.columns):
            return
        self.out.append(
            Statement(
                "column",
                f"{tk}.{quoted(r.new)}",
                f"ALTER TABLE {tk} RENAME COLUMN {quoted(r.old)} TO {quoted(r.new)}",
            )
        )
        t.columns[r.old].name = r.new
        _rekey(t.columns, r.old, r.new)
        for ix in a.indexes.values():
            if ix.schema == r.schema and ix.table_name == table:
                for attr in ("key_columns", "index_columns", "included_columns"):
                    setattr(ix, attr, _replace(getattr(ix, attr), r.old, r.new))
        for c in a.constraints.values():
            if c.schema == r.schema and c.table_name == table:
                c.fk_columns_local = _replace(c.fk_columns_local, r.old, r.new)
            if c.quoted_full_foreign_table_name == tk:
                c.fk_columns_foreign = _replace(c.fk_columns_foreign, r.old, r.new)
        for sq in a.sequences.values():
            if sq.table_name == table and sq.column_name == r.old:
                sq.column_name = r.new
        prefix = f"COLUMN {_ident(r.schema)}.{_ident(table)}."
        _rekey(self.comments, prefix + _ident(r.old), prefix + _ident(r.new))
        self.names.columns.setdefault(table, {})[r.old] = r.new

    def _enum(self, r: Rename) -> None:
        a = self.a
        ok, nk = quoted(r.schema, r.old), quoted(r.schema, r.new)
        if not self._exists(r, ok in a.enums, nk in a.enums):
            return
        self.out.append(Statement("enum", nk, f"ALTER TYPE {ok} RENAME TO {quoted(r.new)}"))
        e = a.enums[ok]
        e.name = r.new
        _rekey(a.enums, ok, nk)
        for t in a.tables.values():
            for c in t.columns.values():
                if c.is_enum and c.enum is e:
                    for attr in ("dbtype", "dbtypestr"):
                        value = str(getattr(c, attr))
                        base = value[:-2] if value.endswith("[]") else value
                        if base in (r.old, f"{r.schema}.{r.old}", ok):
                            setattr(c, attr, value.replace(base, base[: -len(r.old)] + r.new))
        _rekey(
            self.comments,
            f"TYPE {_ident(r.schema)}.{_ident(r.old)}",
            f"TYPE {_ident(r.schema)}.{_ident(r.new)}",
        )
        self.names.types[r.old] = r.new

    def _enum_value(self, r: Rename) -> None:
        """ALTER TYPE ... RENAME VALUE: rows keep their label under its new name."""
        assert r.table is not None
        key = quoted(r.schema, r.table)
        e = self.a.enums.get(key)
        if e is None or not self._exists(r, r.old in e.elements, r.new in e.elements):
            return
        old, new = ("'" + x.replace("'", "''") + "'" for x in (r.old, r.new))
        self.out.append(Statement("enum", key, f"ALTER TYPE {key} RENAME VALUE {old} TO {new}"))
        e.elements = [r.new if x == r.old else x for x in e.elements]

    def _function(self, r: Rename) -> None:
        a = self.a
        olds = [k for k, f in a.functions.items() if f.schema == r.schema and f.name == r.old]
        news = [k for k, f in a.functions.items() if f.schema == r.schema and f.name == r.new]
        if not self._exists(r, bool(olds), bool(news)):
            return
        if len(olds) > 1:
            wanted = {
                f.identity_arguments
                for f in self.b.functions.values()
                if f.schema == r.schema and f.name == r.new
            }
            olds = [k for k in olds if a.functions[k].identity_arguments in wanted]
            if len(olds) != 1:
                raise SpecError(
                    [
                        Problem(
                            r.loc,
                            f"renamed_from: function '{r.old}' is overloaded in the database; "
                            "schemadiff cannot tell which one to rename",
                        )
                    ]
                )
        key = olds[0]
        f = a.functions[key]
        args = f.identity_arguments
        self.out.append(
            Statement(
                "function",
                f"{quoted(r.schema, r.new)}({args})",
                f"ALTER FUNCTION {quoted(r.schema, r.old)}({args}) RENAME TO {quoted(r.new)}",
            )
        )
        f.name = r.new
        if list(f.columns) == [r.old]:  # a scalar function's one output column is its name
            f.columns[r.old].name = r.new
            _rekey(f.columns, r.old, r.new)
        new_key = f"{quoted(r.schema, r.new)}({args})"
        _rekey(a.functions, key, new_key)
        _rekey(a.selectables, key, new_key)
        for tg in a.triggers.values():
            if tg.proc_schema == r.schema and tg.proc_name == r.old:
                tg.proc_name = r.new
        _rekey(
            self.comments,
            f"FUNCTION {_ident(r.schema)}.{_ident(r.old)}({args})",
            f"FUNCTION {_ident(r.schema)}.{_ident(r.new)}({args})",
        )
        self.names.functions[r.old] = r.new

    def _constraint(self, r: Rename) -> None:
        table = r.table or ""
        ok = quoted(r.schema, table, r.old)
        nk = quoted(r.schema, table, r.new)
        if not self._exists(r, ok in self.a.constraints, nk in self.a.constraints):
            return
        self._rename_constraint(r.schema, table, r.old, r.new)

    def _index(self, r: Rename) -> None:
        ok, nk = quoted(r.schema, r.old), quoted(r.schema, r.new)
        if not self._exists(r, ok in self.a.indexes, nk in self.a.indexes):
            return
        ix = self.a.indexes[ok]
        if ix.constraint is not None:  # renaming the index renames its constraint: say so
            self._rename_constraint(r.schema, ix.table_name, r.old, r.new)
        else:
            self._rename_index(r.schema, r.old, r.new)

    # -- the renames themselves -------------------------------------------------------------

    def _rename_constraint(self, schema: str, table: str, old: str, new: str) -> None:
        a = self.a
        tk = quoted(schema, table)
        self.out.append(
            Statement(
                "constraint",
                quoted(schema, table, new),
                f"ALTER TABLE {tk} RENAME CONSTRAINT {quoted(old)} TO {quoted(new)}",
            )
        )
        c = a.constraints[quoted(schema, table, old)]
        c.name = new
        _rekey(a.constraints, quoted(schema, table, old), c.quoted_full_name)
        target = f" ON {_ident(schema)}.{_ident(table)}"
        _rekey(
            self.comments, f"CONSTRAINT {_ident(old)}{target}", f"CONSTRAINT {_ident(new)}{target}"
        )
        if c.index is not None:  # Postgres renames the index of a key along with it
            c.index.name = new
            _rekey(a.indexes, quoted(schema, old), quoted(schema, new))
            self._index_comment(schema, old, new)

    def _rename_index(self, schema: str, old: str, new: str) -> None:
        self.out.append(
            Statement(
                "index",
                quoted(schema, new),
                f"ALTER INDEX {quoted(schema, old)} RENAME TO {quoted(new)}",
            )
        )
        self.a.indexes[quoted(schema, old)].name = new
        _rekey(self.a.indexes, quoted(schema, old), quoted(schema, new))
        self._index_comment(schema, old, new)

    def _index_comment(self, schema: str, old: str, new: str) -> None:
        _rekey(
            self.comments,
            f"INDEX {_ident(schema)}.{_ident(old)}",
            f"INDEX {_ident(schema)}.{_ident(new)}",
        )

    def _rename_sequence(self, schema: str, old: str, new: str) -> None:
        self.out.append(
            Statement(
                "sequence",
                quoted(schema, new),
                f"ALTER SEQUENCE {quoted(schema, old)} RENAME TO {quoted(new)}",
            )
        )
        self.a.sequences[quoted(schema, old)].name = new
        _rekey(self.a.sequences, quoted(schema, old), quoted(schema, new))
        for attr in ("selectables", "relations"):
            _rekey(getattr(self.a, attr), quoted(schema, old), quoted(schema, new))
        self.names.relations[old] = new
        self.names.relations[f"{schema}.{old}"] = f"{schema}.{new}"

    def _derived_names(self) -> None:
        """Keys, indexes and sequences named after a renamed table or column follow it."""
        a, b = self.a, self.b
        tables: dict[str, tuple[str, str]] = {}  # new table -> (old, new) of the table
        for r in self.renames:
            if r.kind == "table" and self.names.tables.get(r.old) == r.new:
                tables[r.new] = (r.old, r.new)
        touched = set(tables) | set(self.names.columns)
        for table in sorted(touched):

            def follow(name: str, table: str = table) -> str:
                if table in tables and name.startswith(tables[table][0] + "_"):
                    name = table + name[len(tables[table][0]) :]
                for old, new in self.names.columns.get(table, {}).items():
                    name = name.replace(f"_{old}_", f"_{new}_", 1)
                return name

            for c in [c for c in a.constraints.values() if c.table_name == table]:
                new = follow(c.name)
                nk = quoted(c.schema, table, new)
                if new != c.name and nk in b.constraints and nk not in a.constraints:
                    self._rename_constraint(c.schema, table, c.name, new)
            for ix in [i for i in a.indexes.values() if i.table_name == table]:
                new = follow(ix.name)
                nk = quoted(ix.schema, new)
                fits = nk in b.indexes and nk not in a.indexes
                if ix.constraint is None and new != ix.name and fits:
                    self._rename_index(ix.schema, ix.name, new)
            for sq in [s for s in a.sequences.values() if s.table_name == table]:
                new = follow(sq.name)
                nk = quoted(sq.schema, new)
                if new != sq.name and nk in b.sequences and nk not in a.sequences:
                    self._rename_sequence(sq.schema, sq.name, new)

    def _adopt_equivalent_texts(self) -> None:
        """Texts that name renamed objects: the target's, when equal once renames apply."""
        a, b, names = self.a, self.b, self.names

        def same(wrap: str, have: str | None, want: str | None, table: str) -> bool:
            return have != want and sqlread.equivalent(wrap, have, want, names, table)

        for key, c in a.constraints.items():
            t = b.constraints.get(key)
            if t is not None and same("constraint", c.definition, t.definition, c.table_name):
                c.definition = t.definition
        for key, ix in a.indexes.items():
            t = b.indexes.get(key)
            for attr in ("key_expressions", "partial_predicate") if t is not None else ():
                if same("expression", getattr(ix, attr), getattr(t, attr), ix.table_name):
                    setattr(ix, attr, getattr(t, attr))
        for key, tg in a.triggers.items():
            t = b.triggers.get(key)
            if t is not None and same(
                "statement", tg.full_definition, t.full_definition, tg.table_name
            ):
                tg.full_definition = t.full_definition
        for key, table in a.tables.items():
            other = b.tables.get(key)
            for name, col in table.columns.items() if other is not None else ():
                want = other.columns.get(name)
                if want is not None and same("expression", col.default, want.default, table.name):
                    col.default = want.default


def apply(
    live_inspector: Any,
    target_inspector: Any,
    comments: dict[str, str | None],
    rows: Any,
    renames: Iterable[Rename],
) -> list[Statement]:
    """Rename objects in the live inspector as declared; the RENAME statements, in order."""
    todo = list(renames)
    if not todo:
        return []
    return _Renamer(live_inspector, target_inspector, comments, rows, todo).run()
