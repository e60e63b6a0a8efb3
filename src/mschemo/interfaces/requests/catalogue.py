"""What is built in: the drugs (label regimen, rules, covariates, parameters), the other models with
their example scenarios, and every parameter file; for ``mschemo drugs`` and the web app's lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import OptionError
from .base import Request, Spelling, quote

__all__ = ["DrugsRequest", "Catalogue", "regimen_text"]


class DrugsRequest(Request):
    """The built-in drugs and models, or one of them in full."""

    name: str | None = None
    sources: bool = False

    def resolve(self, sp: Spelling) -> Catalogue:
        from ...drugs import available_drugs, load_drug
        from ...models import available_models, load_model

        drug_names = available_drugs()
        model_names = [m for m in available_models() if m not in drug_names]
        if self.name is not None:
            key = self.name.strip().lower().replace("_", "-")
            if key not in drug_names and key not in model_names:
                raise OptionError(f"there is no built-in drug named {quote(self.name, 40)}; use one of "
                                  f"{', '.join(drug_names + model_names)}.")
            drug_names = [key] if key in drug_names else []
            model_names = [key] if key in model_names else []
        return Catalogue({nm: load_drug(nm) for nm in drug_names}, {nm: load_model(nm) for nm in model_names},
                         one=self.name is not None)


@dataclass
class Catalogue:
    """Drugs and models by name; ``one``: a single one was asked for."""

    drugs: dict[str, Any]
    models: dict[str, Any]
    one: bool = False
    _examples: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def other_parameter_sets(self) -> list[Any]:
        """Parameter files that are neither a drug's nor a listed model's (CTCAE scales, disease, ...)."""
        from ...params import load_parameters, parameter_files

        shown = {str(getattr(obj, "model", obj).parameter_set.path) for obj in [*self.drugs.values(),
                                                                               *self.models.values()]}
        return [load_parameters(path) for path in parameter_files() if str(path) not in shown]

    @staticmethod
    def examples_of(model: Any) -> list[tuple[str, str]]:
        """(name, description) of the built-in scenarios that use ``model``."""
        from ...examples import EXAMPLES, load_example

        return [(k, v) for k, v in EXAMPLES.items() if load_example(k, n=1).model.name == model.name]

    @staticmethod
    def default_regimen(model: Any) -> str:
        """A model file's default regimen ('' when it has none)."""
        spec = (model.parameter_set.raw.get("model") or {}) if model.parameter_set is not None else {}
        value = spec.get("default_regimen", spec.get("regimen", ""))
        return value if isinstance(value, str) else ""


def regimen_text(drug: Any) -> str:
    """A drug's label regimen as text; a per-patient plan (cladribine tablets) says how it is built."""
    from ...drugs.library import LABEL_PLANS

    if drug.default_regimen.strip().lower() in LABEL_PLANS:
        return f"{drug.default_regimen} (built per patient from body weight)"
    return drug.default_regimen
