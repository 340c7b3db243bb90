"""cfmon.alloy: the Alloy syntax parser (values, blocks, errors with their line) and the component table."""

from __future__ import annotations

import pytest

from cfmon.alloy import AlloySyntaxError, Attribute, Call, Op, Ref, parse, references, validate

# ---- parsing ---------------------------------------------------------------------------------------


def value_of(expr: str):
    (attr,) = parse(f"x = {expr}\n")
    assert isinstance(attr, Attribute)
    return attr.value


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('"plain"', "plain"),
        (r'"tab\there \"quoted\" \\ back"', 'tab\there "quoted" \\ back'),
        (r'"\u00e9\x41\101"', "éAA"),
        ('`raw "quotes" {{ .Value }} \\n`', 'raw "quotes" {{ .Value }} \\n'),
        ("42", 42),
        ("-3", -3),
        ("1.5e3", 1500.0),
        ("true", True),
        ("false", False),
        ("null", None),
        ('["a", 1, [true]]', ["a", 1, [True]]),
        ('["a",\n "b",\n]', ["a", "b"]),
        ("[]", []),
        ('{ a = 1, "b-c" = "d", }', {"a": 1, "b-c": "d"}),
        ("{}", {}),
        ("loki.write.default.receiver", Ref("loki.write.default.receiver")),
        ('sys.env("HOSTNAME")', Call("sys.env", ("HOSTNAME",))),
        ('"a=" + sys.env("X")', Op("+", ("a=", Call("sys.env", ("X",))))),
        ("1 + 2 * 3", Op("+", (1, Op("*", (2, 3))))),
        ("(1 + 2) * 3", Op("*", (Op("+", (1, 2)), 3))),
        ("!a || b && c", Op("||", (Op("!", (Ref("a"),)), Op("&&", (Ref("b"), Ref("c")))))),
        ("2 ^ 3 ^ 2", Op("^", (2, Op("^", (3, 2))))),
        ("x.targets[0]", Op("[]", (Ref("x.targets"), 0))),
    ],
)
def test_values(expr, expected):
    assert value_of(expr) == expected


def test_blocks_labels_attributes_and_lines():
    text = """// a comment
logging {
  level = "info"
}

/* a comment
   over two lines */
loki.process "pods" {
  forward_to = [loki.write.x.receiver]

  stage.template {
    template = `{{ if .a }}
multi-line{{ end }}`
  }
  stage.cri {}
}
loki.write "x" { endpoint { url = "http://l:3100/loki/api/v1/push" } }
"""
    logging, process, write = parse(text)
    assert (logging.name, logging.label, logging.line) == ("logging", None, 2)
    assert logging.attributes["level"].value == "info"
    assert (process.name, process.label, process.line, process.title) == (
        "loki.process",
        "pods",
        8,
        'loki.process "pods"',
    )
    template, cri = process.blocks
    assert (template.name, template.line, cri.name, cri.line) == ("stage.template", 11, "stage.cri", 15)
    assert template.attributes["template"].value == "{{ if .a }}\nmulti-line{{ end }}"
    assert write.line == 17 and write.blocks[0].attributes["url"].line == 17
    assert references(process.attributes["forward_to"].value) == [Ref("loki.write.x.receiver")]


def test_references_are_found_inside_any_value():
    value = value_of('[a.b, { k = c.d }, f(e.f) + "x"]')
    assert references(value) == [Ref("a.b"), Ref("c.d"), Ref("e.f")]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('a {\n  b = "open\n}\n', 2, "unterminated string"),
        ("a {\n  b = 1\n", 3, "missing '}' at end of file"),
        ("a {\n  b = 1 c = 2\n}\n", 2, "'c' must start on a new line"),
        ("a.b = 1\n", 1, "an attribute name cannot contain '.': a.b"),
        ("a {\n  b = { k = 1, k = 2 }\n}\n", 2, "duplicate object key 'k'"),
        ('a {\n  b = "\\q"\n}\n', 2, "unknown escape sequence \\q"),
        ("a {\n  /* never closed\n}\n", 2, "unterminated /* comment"),
        ("a {\n  b = [1, 2\n}\n", 3, "expected ',' or ']', found '}'"),
        ('a "x" "y" {}\n', 1, "expected '=' or a block body after a"),
        ("a {\n  b = \n}\n", 3, "expected a value, found '}'"),
        ("a {\n  b = 1 @ 2\n}\n", 2, "unexpected character '@'"),
        ("a {\n  b = `raw\n\n}\n", 2, "unterminated raw string"),
        ("a {\n  = 1\n}\n", 2, "expected an attribute or block name, found '='"),
    ],
)
def test_syntax_errors_name_the_line(text, line, message):
    with pytest.raises(AlloySyntaxError) as err:
        parse(text)
    assert err.value.line == line
    assert message in err.value.message


def test_line_numbers_count_multi_line_raw_strings():
    with pytest.raises(AlloySyntaxError) as err:
        parse('a {\n  t = `one\ntwo\nthree`\n  u = "open\n}\n')
    assert err.value.line == 5


# ---- the component table ---------------------------------------------------------------------------

GOOD = """
discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("HOSTNAME")
  }
}
discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
}
local.file_match "pods" {
  path_targets = discovery.relabel.pods.output
}
loki.source.file "pods" {
  targets    = local.file_match.pods.targets
  forward_to = [loki.process.pods.receiver]
}
loki.process "pods" {
  forward_to = [loki.write.default.receiver]
  stage.match {
    selector = "{app=\\"x\\"}"
    stage.json {
      expressions = { level = "" }
    }
  }
  stage.metrics {
    metric.counter {
      name      = "lines_total"
      action    = "inc"
      match_all = true
    }
  }
}
loki.write "default" {
  endpoint {
    url = "http://loki:3100/loki/api/v1/push"
  }
}
"""


def test_a_valid_pipeline_has_no_problems():
    assert validate(parse(GOOD)) == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('role = "pod"\n  selectors', 'role = "pods"\n  selectors', "role must be one of node, pod,"),
        ("  selectors {", "  selector {", 'discovery.kubernetes "pods": unknown block selector'),
        ("    target_label  =", "    target_labels =", "> rule: unknown attribute target_labels"),
        ('loki.process "pods" {', "loki.process {", "loki.process: a component needs a label"),
        ('loki.write "default" {', 'loki.write "default-1" {', "a label is letters, digits and"),
        ("      match_all = true", '      match_all = "yes"', 'match_all must be a bool, not "yes"'),
        ("    stage.json {", '    stage.json "x" {', "an inner block takes no label"),
        ('      expressions = { level = "" }\n', "", "stage.json: missing required attribute expressions"),
        (
            "discovery.relabel.pods.output",
            "discovery.relabel.pods.outputs",
            "discovery.relabel exports output, rules",
        ),
        (
            "local.file_match.pods.targets",
            "local.file_match.other.targets",
            'local.file_match "other", which is not',
        ),
        ('sys.env("HOSTNAME")', 'os.env("HOSTNAME")', "unknown function os.env"),
        (
            "[loki.process.pods.receiver]",
            '["loki.process.pods.receiver"]',
            "must be a list of component receivers",
        ),
    ],
)
def test_validation_problems(old, new, message):
    assert old in GOOD
    problems = validate(parse(GOOD.replace(old, new, 1)))
    assert any(message in p.message for p in problems), [p.message for p in problems]


def test_a_component_defined_twice_and_an_attribute_outside_blocks():
    text = GOOD + 'loki.write "default" {\n}\nstray = 1\n'
    messages = [p.message for p in validate(parse(text))]
    assert 'loki.write "default" is defined twice (first on line 39)' in messages
    assert "attribute stray outside any block" in messages


def test_problems_come_in_line_order_with_their_line():
    text = GOOD.replace("    target_label  =", "    target_labels =").replace('url = "http', 'urls = "http')
    problems = validate(parse(text))
    assert [(p.line, p.message.split(" (allowed")[0]) for p in problems] == [
        (13, 'discovery.relabel "pods" > rule: unknown attribute target_labels'),
        (40, 'loki.write "default" > endpoint: missing required attribute url'),
        (41, 'loki.write "default" > endpoint: unknown attribute urls'),
    ]
