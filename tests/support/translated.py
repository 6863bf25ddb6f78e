"""Reading ``template.yaml`` as SAM translates it (``devtools.translate``): resources by type,
their properties, and the references between them (what CloudFormation orders by)."""

import re
from collections.abc import Iterator
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resources_of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: res for logical_id, res in template["Resources"].items() if res["Type"] == type_
    }


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return dict(template["Resources"][logical_id].get("Properties", {}))


def referenced_ids(node: Any) -> Iterator[str]:
    """Every name a ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub`` variable in ``node`` refers to
    (resources, parameters and pseudo parameters alike)."""
    if isinstance(node, list):
        for item in node:
            yield from referenced_ids(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else value
                own = set(variables)
                for name in _SUB_VARIABLE.findall(text):
                    if name not in own:
                        yield name.split(".", 1)[0]
                yield from referenced_ids(variables)
            else:
                yield from referenced_ids(value)


def dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
    """For each resource, the resources CloudFormation creates before it: those its
    properties, metadata or condition-free references name, and its ``DependsOn``."""
    resources = template["Resources"]
    graph: dict[str, set[str]] = {}
    for logical_id, res in resources.items():
        names = set(referenced_ids(res.get("Properties", {})))
        names |= set(referenced_ids(res.get("Metadata", {})))
        names |= set(as_list(res.get("DependsOn", [])))
        graph[logical_id] = {name for name in names if name in resources}
    return graph


def depends_on(template: dict[str, Any], logical_id: str, other: str) -> bool:
    """Whether ``logical_id`` is created after ``other`` (directly or through others)."""
    graph = dependencies(template)
    seen: set[str] = set()
    todo = [logical_id]
    while todo:
        for name in graph[todo.pop()]:
            if name == other:
                return True
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return False
