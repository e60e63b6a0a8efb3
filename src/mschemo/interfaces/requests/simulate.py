"""A simulate request: which model or drug, which doses, which patients, which outputs; checked
whole before anything runs, then resolved into a :class:`SimulationJob` (or an
:class:`UntreatedJob`: the disease without chemotherapy)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from ...errors import OptionError
from .base import (
    DEFAULT_SEED,
    MAX_PATIENTS,
    MAX_PROCESSES,
    MAX_SEED,
    PLOT_SUFFIXES,
    TABLE_SUFFIXES,
    Request,
    Spelling,
    choice,
    dask_address,
    duration_days,
    input_file,
    output_path,
    patients_from_file,
    quote,
    whole_number,
)
from .disease import UNTREATED_UNTIL, DiseaseJob, DiseaseRequest, simulate_untreated, untreated_population

__all__ = ["SimulateRequest", "SimulationJob", "UntreatedJob", "DEFAULT_N", "TIME_UNITS", "CAP_REGIONS",
           "load_drug_or_model"]

TIME_UNITS = ("d", "h", "min", "week")
CAP_REGIONS = ("us", "eu")
#: virtual patients when none are asked for
DEFAULT_N = 100


class SimulateRequest(Request):
    """What to simulate, as asked (text fields as typed; see ``mschemo simulate --help``)."""

    drug: str | None = None
    model: str | None = None
    regimen: str | None = None
    events: str | None = None
    time_unit: str | None = None
    example: str | None = None
    population: str | None = None
    n: str | int | None = None
    seed: str | int | None = None
    until: str | None = None
    every: str | None = None
    backend: str | None = None
    threads: str | int | None = None
    no_rules: bool = False
    cap_region: str | None = None
    options: tuple[str, ...] = ()
    disease: bool | None = None
    untreated: bool = False
    disease_options: DiseaseRequest = DiseaseRequest()
    out: str | None = None
    table: str | None = None
    plot: str | None = None
    decisions: str | None = None
    stream: bool = False
    dask: str | None = None
    workers: str | int | None = None

    def resolve(self, sp: Spelling) -> SimulationJob | UntreatedJob:
        """Check every field and say what to run (nothing heavy is run)."""
        n_val = whole_number(self.n, sp("n"), 1, "100", MAX_PATIENTS)
        seed_val = whole_number(self.seed, sp("seed"), 0, "1", MAX_SEED)
        dopts = self.disease_options
        if self.disease is False:
            if self.untreated:
                raise OptionError(f"{sp('no_disease')} switches the disease model off, and {sp('untreated')} "
                                  "simulates only the disease; give one of them.")
            if dopts.given(sp):
                first = dopts.given(sp)[0]
                raise OptionError(f"{sp('no_disease')} switches the disease model off, so {first} does not apply; "
                                  f"leave {first} out or drop {sp('no_disease')}.")
        if self.untreated:
            return self._untreated(n_val, seed_val, sp)
        disease_on = self.disease is True or (self.disease is None and (self.example is None or bool(dopts.given(sp))))
        threads_val = whole_number(self.threads, sp("threads"), 1, "2", MAX_PROCESSES)
        dask = dask_address(self.dask, sp("dask"))
        workers = whole_number(self.workers, sp("workers"), 1, "2", MAX_PROCESSES) if self.workers is not None else None
        if workers is not None and dask is not None:
            raise OptionError(f"{sp('workers')} sets the processes on this machine and {sp('dask')} runs the chunks on a "
                              f"cluster; give one of them.")
        if workers is not None and not self.stream:
            raise OptionError(f"{sp('workers')} runs the chunks of a streamed run in processes; add {sp('stream')} "
                              f"(with {sp.eg('out', 'FILE.parquet')}) or leave {sp('workers')} out.")
        backend_name = choice(self.backend, sp("backend"), ("compiled", "scipy", "jax")) or "compiled"
        table_kind = choice(self.table, sp("table"), ("wide", "long"))
        tu = choice(self.time_unit, sp("time_unit"), TIME_UNITS)
        out_path = output_path(self.out, sp("out"), TABLE_SUFFIXES)
        plot_path = output_path(self.plot, sp("plot"), PLOT_SUFFIXES)
        decisions_path = output_path(self.decisions, sp("decisions"), TABLE_SUFFIXES)
        if out_path is not None and plot_path is not None and out_path.resolve() == plot_path.resolve():
            raise OptionError(f"{sp('out')} and {sp('plot')} both name {quote(self.out, 40)}; give two different files.")
        for name, other in (("out", out_path), ("plot", plot_path)):
            if decisions_path is not None and other is not None and other.resolve() == decisions_path.resolve():
                raise OptionError(f"{sp('decisions')} and {sp(name)} both name {quote(self.decisions, 40)}; give two different "
                                  "files.")
        region = choice(self.cap_region, sp("cap_region"), CAP_REGIONS)
        rule_opts = [sp(o) for o, given in (("no_rules", self.no_rules), ("cap_region", region is not None),
                                            ("options", bool(self.options)),
                                            ("decisions", decisions_path is not None)) if given]
        if rule_opts and self.drug is None:
            raise OptionError(f"{rule_opts[0]} applies to a drug with dosing rules; add {sp.eg('drug', 'NAME')} "
                              f"(e.g. {sp.eg('drug', 'mitoxantrone')}) or leave {rule_opts[0]} out.")
        if self.no_rules and self.options:
            raise OptionError(f"{sp('no_rules')} switches every dosing rule off, so {sp.eg('options', self.options[0])} "
                              "cannot switch one on; give one of them.")
        if self.no_rules and region is not None:
            raise OptionError(f"{sp('no_rules')} switches every dosing rule off, so {sp.eg('cap_region', region)} has "
                              "no cap to choose; give one of them.")
        if threads_val is not None and backend_name != "compiled":
            raise OptionError(f"{sp('threads')} applies to the compiled backend only; leave it out with "
                              f"{sp.eg('backend', backend_name)}.")
        if tu is not None and self.events is None:
            raise OptionError(f"{sp('time_unit')} applies to {sp('events')} only; leave it out or give "
                              f"{sp.eg('events', 'FILE.csv')}.")
        if table_kind is not None and out_path is None:
            raise OptionError(f"{sp('table')} sets the layout of {sp('out')}; give {sp.eg('out', 'FILE.csv')} or "
                              f"leave {sp('table')} out.")
        output = output_times(self.until, self.every, sp)
        if self.stream:
            _check_stream(self, sp, out_path, plot_path, dopts, disease_on)
        djob = dopts.resolve(sp) if disease_on else None
        job = _Resolver(self, sp, n_val, seed_val, output, backend_name, threads_val, tu or "d", region, rule_opts,
                        decisions_path is not None, disease_on).job()
        job.disease, job.out_path, job.plot_path, job.decisions_path, job.table_kind = \
            djob, out_path, plot_path, decisions_path, table_kind
        job.stream, job.dask, job.workers = self.stream, dask, workers
        _check_window(job, self, sp)
        if not self.stream:
            _fits_in_memory(job, self, sp)
        if djob is not None:
            djob.check_population(job.population, quote(self.population, 40))
        return job

    def _untreated(self, n: int | None, seed: int | None, sp: Spelling) -> UntreatedJob:
        given = [sp(o) for o, v in (("drug", self.drug), ("model", self.model), ("example", self.example),
                                    ("regimen", self.regimen), ("events", self.events), ("time_unit", self.time_unit),
                                    ("every", self.every), ("backend", self.backend), ("threads", self.threads),
                                    ("out", self.out), ("table", self.table), ("plot", self.plot),
                                    ("decisions", self.decisions), ("cap_region", self.cap_region),
                                    ("options", self.options or None), ("no_rules", self.no_rules or None),
                                    ("dask", self.dask), ("workers", self.workers))
                 if v is not None]
        if given:
            fix = (f" (write the disease tables with {sp.eg('disease_outdir', 'FOLDER')})"
                   if given[0] in (sp("out"), sp("table")) else "")
            raise OptionError(f"{sp('untreated')} simulates the disease without chemotherapy, so {given[0]} does not "
                              f"apply{fix}; leave {given[0]} out or drop {sp('untreated')}.")
        dopts = self.disease_options
        if self.until is not None and dopts.disease_until is not None:
            raise OptionError(f"{sp('until')} and {sp('disease_until')} both set the window of an untreated run; give "
                              "one of them.")
        until_d = duration_days(self.until, sp("until"), "'10 years'") if self.until is not None else None
        djob = dopts.resolve(sp)
        if until_d is None:
            until_d = djob.until_d if djob.until_d is not None else duration_days(UNTREATED_UNTIL, sp("until"))
        pop, seed_used, label = untreated_population(self.population, n, DEFAULT_SEED if seed is None else seed,
                                                     DEFAULT_N, sp)
        djob.check_population(pop, quote(self.population, 40))
        return UntreatedJob(pop, seed_used, label, until_d, djob)


def _fits_in_memory(job: SimulationJob, req: SimulateRequest, sp: Spelling) -> None:
    """Stop before the run, with one sentence, when the result would not fit in memory (estimated from
    patients x output times x columns); the fix is a streamed run into a file."""
    from ..._internal.processes import machine_memory_bytes
    from ...output import OutputTimes
    from ...simulation.stream import ESTIMATE_UNTIL_D, MEMORY_SHARE, estimate_bytes

    n_times = OutputTimes.parse(job.output, None).count(ESTIMATE_UNTIL_D)
    need = estimate_bytes(job.total, n_times, len(job.model.outputs) + 1)
    have = machine_memory_bytes()
    if need <= MEMORY_SHARE * have:
        return
    gib = lambda b: f"{b / 2**30:,.0f} GiB"  # noqa: E731
    window = "" if job.drug is None or req.no_rules or req.until is not None else f" {sp.eg('until', repr('2 years'))}"
    raise OptionError(f"{sp('n')} {job.total:,} patients x {n_times:,} output times would need about {gib(need)} in "
                      f"memory, more than half of this machine's {gib(have)}; write the time courses chunk by chunk "
                      f"with {sp.eg('out', 'FILE.parquet')} {sp('stream')}{window}, or give fewer patients or a "
                      f"longer {sp('every')}.")


def _check_stream(req: SimulateRequest, sp: Spelling, out_path: Path | None, plot_path: Path | None,
                  dopts: DiseaseRequest, disease_on: bool) -> None:
    """What a streamed run needs: a file to stream into, and no output that needs the time courses in
    memory (the window a drug's run needs: :func:`_check_window`)."""
    flag = sp("stream")
    if out_path is None:
        raise OptionError(f"{flag} writes the time courses chunk by chunk into a file; add {sp.eg('out', 'FILE.parquet')}.")
    if plot_path is not None:
        raise OptionError(f"{sp('plot')} needs every time course in memory, which {flag} does not keep; leave "
                          f"{sp('plot')} out (plot a sample from {sp('out')} later) or drop {flag}.")
    if req.example is not None:
        raise OptionError(f"{flag} applies to --drug and --model runs; the example's {sp('out')} is a per-patient table "
                          f"that fits in memory, so drop {flag}.")
    if req.events is not None:
        raise OptionError(f"{sp('events')} gives each patient's own records, which {flag} does not read chunk by chunk "
                          f"yet; drop {flag} (an event table's patients fit in memory).")
    if disease_on and dopts.dmt is not None:
        raise OptionError(f"{sp('dmt')} is not available with {flag} yet; drop one of them.")
    if disease_on and dopts.disease_outdir is not None:
        raise OptionError(f"{sp('disease_outdir')} writes every patient's disease tables, which {flag} does not keep; "
                          f"leave it out (the disease's summary is shown) or drop {flag}.")


def _check_window(job: SimulationJob, req: SimulateRequest, sp: Spelling) -> None:
    """A drug's run in chunks (streamed, or on Dask) needs a window all chunks share: its courses are
    decided one by one, and in memory the window ends 13 weeks after the last dose any patient got."""
    if job.drug is None or req.until is not None or not (req.stream or req.dask is not None):
        return
    flag = sp("stream") if req.stream else sp("dask")
    rules = "under dosing rules" if job.rules_on else "of a drug's planned courses"
    raise OptionError(f"a run in chunks ({flag}) {rules} needs a fixed window (in memory it ends 13 weeks after the "
                      "last dose any patient was given, which a chunk cannot know); add "
                      f"{sp.eg('until', repr('2 years'))}.")


def output_times(until: str | None, every: str | None, sp: Spelling) -> Any:
    """OutputTimes from the window and the step (days; None: the engine's defaults)."""
    from ...output import OutputTimes
    from ...units import parse_duration

    until_d = every_d = None
    if until is not None:
        until_d = parse_duration(until, sp("until"))
        if until_d <= 0:
            raise OptionError(f"{sp('until')} {quote(until, 40)} is not after day 0; give a later end, e.g. "
                              f"{sp.eg('until', chr(39) + '2 years' + chr(39))}.")
    if every is not None:
        every_d = parse_duration(every, sp("every"))
        if every_d <= 0:
            raise OptionError(f"{sp('every')} {quote(every, 40)} is not a positive step; give e.g. "
                              f"{sp.eg('every', chr(39) + '1 day' + chr(39))}.")
    output = OutputTimes(every=1.0 if every_d is None else every_d, until=until_d)
    output.check()
    return output


def load_drug_or_model(name: str, sp: Spelling, option: str = "drug") -> Any:
    """A Drug (a file with a [drug] table: label regimen and dosing rules) or, for a built-in model
    without one (mitox-2y), the model itself."""
    from ...drugs import available_drugs, load_drug
    from ...models import available_models, load_model

    drugs = available_drugs()
    known = drugs + [m for m in available_models() if m not in drugs]
    key = name.strip().lower().replace("_", "-")
    if key not in known:
        raise OptionError(f"there is no built-in drug named {quote(name, 40)}; use one of {', '.join(known)} "
                          "(list them with 'mschemo drugs').")
    return load_drug(key) if key in drugs else load_model(key)


class _ChunkSize(TypedDict, total=False):
    """The chunk size a drug's run takes on Dask only (passed as ``**sized``)."""

    chunk_size: int


@dataclass
class SimulationJob:
    """Everything a run needs, checked: the model (or the drug), doses, patients, output times,
    solver, the drug's rules, and the outputs asked for."""

    model: Any
    regimen: Any
    population: Any
    n: int | None
    seed: int | None
    output: Any
    backend: Any
    example: Any = None
    regimen_label: str = ""
    population_label: str = ""
    drug: Any = None                 # a Drug: simulated with its dosing rules
    regimen_text: str | None = None  # the drug's regimen as given (None: the label's)
    rules_on: bool = True
    region: str | None = None
    options: tuple[str, ...] = ()
    disease: DiseaseJob | None = None
    out_path: Path | None = None
    plot_path: Path | None = None
    decisions_path: Path | None = None
    table_kind: str | None = None
    stream: bool = False
    dask: str | None = None          # a Dask scheduler address or "local": the chunks run there
    workers: int | None = None       # processes on this machine for a streamed run (None: one per core)

    @property
    def total(self) -> int:
        """Patients to simulate."""
        return self.n if self.n is not None else len(self.population)

    def rules(self) -> Any:
        """The drug's dosing rules as asked (on or off, cap region, options); None without a drug."""
        if self.drug is None:
            return None
        rules = self.drug.rules if self.rules_on else self.drug.rules.without()
        if self.region is not None:
            rules = rules.with_region(self.region)
        if self.options:
            rules = rules.with_options(*self.options)
        return rules

    def run(self, progress: Any = False, chunk_size: int = 10_000) -> Any:
        """Simulate; with the disease asked for, the memory compartment the disease reads is recorded.
        On Dask each chunk of ``chunk_size`` patients is a task."""
        from ...simulation import simulate

        immune = self.disease is not None
        if self.drug is not None:
            sized: _ChunkSize = {"chunk_size": chunk_size} if self.dask is not None else {}
            return simulate(self.drug, self.regimen_text, self.population, rules=self.rules(), n=self.n,
                            seed=self.seed, output=self.output, backend=self.backend, progress=progress, throw=False,
                            immune=immune, dask=self.dask, **sized)
        return simulate(self.model, self.regimen, self.population, n=self.n, output=self.output, backend=self.backend,
                        seed=self.seed, progress=progress, throw=False, chunk_size=chunk_size, immune=immune,
                        dask=self.dask)

    def run_to(self, path: Path, progress: Any = False, chunk_size: int = 10_000,
               decisions_path: Path | None = None) -> Any:
        """Simulate chunk by chunk into ``path`` (.parquet or .csv), keeping only each patient's small
        tables in memory: a StreamedResult (the same summaries as ``run``); under dosing rules the
        decisions go chunk by chunk to ``decisions_path`` when given."""
        from ...simulation.stream import simulate_to

        treatments = self.disease.treatments if self.disease is not None else False
        until = self.disease.until_d if self.disease is not None else None
        if self.drug is not None:
            return simulate_to(path, self.drug, self.regimen_text, self.population, n=self.n, rules=self.rules(),
                               seed=self.seed, output=self.output, backend=self.backend, chunk_size=chunk_size,
                               kind=self.table_kind or "wide", disease=treatments, disease_until=until,
                               progress=progress, dask=self.dask, decisions_path=decisions_path,
                               workers=self.workers)
        return simulate_to(path, self.model, self.regimen, self.population, n=self.n, seed=self.seed,
                           output=self.output, backend=self.backend, chunk_size=chunk_size,
                           kind=self.table_kind or "wide", disease=treatments, disease_until=until, progress=progress,
                           dask=self.dask, workers=self.workers)

    def rules_in_force(self) -> list[str]:
        """Labels of the rules that act in this run."""
        rules = self.rules()
        return rules.describe() if rules is not None and self.rules_on else []

    def rules_text(self) -> str:
        """'dosing rules on (cap region us)' or 'dosing rules off'."""
        from ...dosing import CumulativeCap

        if self.drug is None:
            return "no dosing rules (a model, not a drug)"
        if not self.rules_on:
            return "dosing rules off"
        region = self.region or self.drug.rules.region
        has_cap = any(isinstance(r, CumulativeCap) and r.region for r in self.drug.rules)
        bits = [f"cap region {region}"] if has_cap else []
        if self.options:
            bits.append(f"options {', '.join(self.options)}")
        return "dosing rules on" + (f" ({'; '.join(bits)})" if bits else "")

    def plot_title(self, n_patients: int) -> str | None:
        """A drug's figure title: drug, regimen, patients and whether the rules were on (None: the default)."""
        if self.drug is None:
            return None
        if not self.rules_on:
            rules = "rules off"
        else:
            region = self.region or self.drug.rules.region
            caps = {r.region for r in self.drug.rules if getattr(r, "region", "")}
            rules = "rules on" + (f", {region.upper()} cap" if region in caps else "") + \
                "".join(f", {o}" for o in self.options)
        regimen = self.regimen_label.split(" (the label regimen;")[0] + (" (label)" if self.regimen_text is None else "")
        return f"{self.drug.name}: {regimen.replace('mg/m2', 'mg/m²')}; {n_patients} patients, {rules}"

    def attach_disease(self, result: Any) -> Any:
        """The disease of the result's patients (``result.disease``)."""
        from .disease import attach

        assert self.disease is not None     # asked for only when the disease is on
        return attach(result, self.disease)


@dataclass
class UntreatedJob:
    """The disease of a cohort without chemotherapy."""

    population: Any
    seed: int
    population_label: str
    until_d: float
    disease: DiseaseJob

    def run(self) -> Any:
        return simulate_untreated(self.population, self.seed, self.until_d, self.disease)


class _Resolver:
    """From the checked fields to a :class:`SimulationJob`: model or drug, doses, patients."""

    def __init__(self, req: SimulateRequest, sp: Spelling, n: int | None, seed: int | None, output: Any,
                 backend_name: str, threads: int | None, time_unit: str, region: str | None, rule_opts: list[str],
                 decisions: bool, disease: bool) -> None:
        self.req, self.sp, self.n, self.seed, self.output = req, sp, n, seed, output
        self.seed_used = DEFAULT_SEED if seed is None else seed
        self.time_unit, self.region, self.rule_opts, self.decisions, self.disease = \
            time_unit, region, rule_opts, decisions, disease
        from ... import backends

        # 'jax' without the jax package: an OptionError that says how to install it
        self.backend = backends.Compiled(threads=threads) if backend_name == "compiled" else \
            backends.get_backend(backend_name)

    def job(self) -> SimulationJob:
        req, sp = self.req, self.sp
        if req.example is not None:
            return self._example()
        if req.drug is not None and req.model is not None:
            raise OptionError(f"{sp('drug')} and {sp('model')} both name a model; give one of them.")
        if req.drug is None and req.model is None:
            raise OptionError(f"no model given; add {sp.eg('drug', 'NAME')} (see 'mschemo drugs'), "
                              f"{sp.eg('model', 'FILE.toml')} or {sp.eg('example', 'NAME')}.")
        if req.drug is not None:
            mdl = load_drug_or_model(req.drug, sp)
        else:
            assert req.model is not None    # a drug or a model (checked above)
            mdl = self._model(req.model)
        from ...drugs import Drug

        if isinstance(mdl, Drug):
            return self._drug(mdl)
        if self.rule_opts:
            from ...drugs import available_drugs

            raise OptionError(f"{self.rule_opts[0]} applies to a drug with dosing rules ({', '.join(available_drugs())}); "
                              f"{quote(req.drug, 40)} is a model without rules, so leave {self.rule_opts[0]} out.")
        reg, reg_label = self._doses()
        _check_compartments(mdl, reg)
        pop, n_used, pop_label = self._population(reg, req.events is not None)
        return SimulationJob(mdl, reg, pop, n_used, self.seed_used, self.output, self.backend, regimen_label=reg_label,
                             population_label=pop_label)

    def _example(self) -> SimulationJob:
        req, sp, name = self.req, self.sp, self.req.example
        assert name is not None     # called for an example only
        clash = [sp(o) for o, v in (("drug", req.drug), ("model", req.model), ("regimen", req.regimen),
                                    ("events", req.events), ("population", req.population)) if v is not None]
        if clash:
            raise OptionError(f"{sp.eg('example', name)} brings its own model, doses and patients, so {clash[0]} does "
                              f"not apply; leave {clash[0]} out or drop {sp('example')}.")
        from ...examples import EXAMPLES, load_example

        if name not in EXAMPLES:
            raise OptionError(f"{sp('example')} {quote(name, 40)} is not a built-in example; use one of {', '.join(EXAMPLES)}.")
        ex = load_example(name, n=DEFAULT_N if self.n is None else self.n, seed=self.seed)
        out = ex.output
        if self.output.until is not None or self.output.every != ex.output.every:
            from ...output import OutputTimes

            out = OutputTimes(every=self.output.every,
                              until=self.output.until if self.output.until is not None else ex.output.until)
        return SimulationJob(ex.model, ex.regimen, ex.population, None, ex.seed, out, self.backend, example=ex,
                             regimen_label=ex.regimen.describe(), population_label=ex.population.description)

    def _model(self, text: str) -> Any:
        from ...models import available_models, load_model

        sp = self.sp
        if not text.strip():
            raise OptionError(f"{sp('model')} is empty; give a built-in name or the path of a model file (.toml).")
        path = Path(text)
        if path.suffix or len(path.parts) > 1:
            return load_model(input_file(text, sp("model"), (".toml",)))
        known = available_models()
        if text.strip().lower().replace("_", "-") not in known:
            raise OptionError(f"there is no built-in model named {quote(text, 40)}; use one of {', '.join(known)} or the path "
                              "of a model file (.toml).")
        return load_model(text.strip().lower().replace("_", "-"))

    def _doses(self) -> tuple[Any, str]:
        req, sp = self.req, self.sp
        if req.regimen is not None and req.events is not None:
            raise OptionError(f"{sp('regimen')} and {sp('events')} both give the doses; give one of them.")
        if req.regimen is None and req.events is None:
            raise OptionError(f"no doses given; add {sp.eg('regimen', chr(39) + '12 mg/m2 over 30 min every 3 months x 8' + chr(39))} "
                              f"or {sp.eg('events', 'FILE.csv')}.")
        if req.regimen is not None:
            from ...regimen import Regimen

            reg = Regimen.parse(req.regimen)
            return reg, reg.describe()
        return self._events()

    def _events(self) -> tuple[Any, str]:
        from ...regimen import EventTable

        assert self.req.events is not None      # called for an event table only
        path = input_file(self.req.events, self.sp("events"), (".csv", ".txt", ".dat"))
        reg = EventTable.read(path, time_unit=self.time_unit)
        return reg, f"event table {path.name} ({len(reg.ids)} ID(s), times in {self.time_unit})"

    def _drug(self, drug: Any) -> SimulationJob:
        """A drug: its label regimen unless a regimen is given, its dosing rules unless they are off."""
        req, sp, region = self.req, self.sp, self.region
        rules_on = not req.no_rules
        if region is not None:
            regions = drug.rules.regions
            if region not in regions:
                fix = (f"use one of {', '.join(regions)}" if regions else f"leave {sp('cap_region')} out")
                raise OptionError(f"{sp.eg('cap_region', region)} does not apply to {drug.name}, which has "
                                  f"{'no lifetime dose cap' if not regions else 'no cap for that region'}; {fix}.")
        opts: list[str] = []
        for o in req.options:
            key = o.strip().lower()
            known = drug.rules.available_options
            if key not in known:
                fix = (f"use one of {', '.join(known)}" if known
                       else f"it has no optional rules, so leave {sp('options')} out")
                raise OptionError(f"{sp('options')} {quote(o, 40)} is not an optional dosing rule of {drug.name}; {fix}.")
            if key not in opts:
                opts.append(key)
        common = dict(drug=drug, rules_on=rules_on, region=region, options=tuple(opts))
        if req.regimen is not None and req.events is not None:
            raise OptionError(f"{sp('regimen')} and {sp('events')} both give the doses; give one of them.")
        if req.events is not None:
            if rules_on:
                raise OptionError(f"the dosing rules of {drug.name} apply to a regimen, not to an event table; give "
                                  f"{sp('regimen')} (or leave it out for the label regimen), or add {sp('no_rules')} to "
                                  f"simulate {sp('events')} as written.")
            if self.decisions:
                raise OptionError(f"{sp('decisions')} writes the course decisions of a regimen, and {sp('events')} "
                                  f"has none; leave {sp('decisions')} out or give {sp('regimen')}.")
            reg, reg_label = self._events()
            _check_compartments(drug.model, reg)
            pop, n_used, pop_label = self._population(reg, True)
            return SimulationJob(drug.model, reg, pop, n_used, self.seed_used, self.output, self.backend,
                                 regimen_label=reg_label, population_label=pop_label, rules_on=False)
        planned = drug.plan(req.regimen)   # checks the text (and another drug's label plan) before anything runs
        reg_label = _drug_regimen_label(drug, req.regimen, planned)
        common.update(regimen_text=req.regimen, regimen_label=reg_label)
        extra = ", ".join(cov.name for cov in drug.covariates)
        plus = f" + {extra}" if extra else ""
        population, n = req.population, self.n
        if population is not None and input_file(population, sp("population"), (".csv", ".toml")).suffix.lower() == ".csv":
            from ...population import Population

            path = Path(population)
            if n is not None:
                raise OptionError(f"{sp('n')} does not apply to a patient table ({quote(path.name, 40)} gives the patients); "
                                  f"leave {sp('n')} out.")
            pop = Population.from_csv(path)
            missing = [cov.name for cov in drug.covariates if cov.name not in pop.table.columns]
            if self.seed is not None and not missing and not self.disease:
                raise OptionError(f"{sp('seed')} does not apply to a patient table ({quote(path.name, 40)} gives the patients "
                                  f"and every covariate {drug.name} needs); leave {sp('seed')} out.")
            drawn = f"; {', '.join(missing)} drawn from {drug.name}'s distribution" if missing else ""
            return SimulationJob(drug.model, planned, pop, None, self.seed_used, self.output, self.backend,
                                 population_label=f"{pop.description}{drawn}", **common)
        from ...population import PopulationSpec

        n_used = DEFAULT_N if n is None else n
        if population is not None:
            spec = PopulationSpec.from_file(Path(population))
            return SimulationJob(drug.model, planned, spec, n_used, self.seed_used, self.output, self.backend,
                                 population_label=f"{n_used} virtual patients from {Path(population).name} "
                                                  f"({spec.name}{plus})", **common)
        return SimulationJob(drug.model, planned, drug.population_spec(), n_used, self.seed_used, self.output, self.backend,
                             population_label=f"{n_used} virtual patients ({PopulationSpec().name}{plus})", **common)

    def _population(self, regimen: Any, from_events: bool) -> tuple[Any, int | None, str]:
        from ...population import Population, PopulationSpec

        req, sp, n, seed = self.req, self.sp, self.n, self.seed
        if req.population is not None:
            pop, n_used, label = patients_from_file(req.population, n, sp, DEFAULT_N)
            if n_used is None and seed is not None and not self.disease:
                raise OptionError(f"{sp('seed')} does not apply to a patient table ({quote(Path(req.population).name, 40)} "
                                  f"gives the patients); leave {sp('seed')} out.")
            return pop, n_used, label
        if from_events and n is None:
            import pandas as pd

            ids = list(regimen.ids)
            if seed is not None and not self.disease:
                raise OptionError(f"{sp('seed')} does not apply to typical patients; give {sp.eg('n', 'N')} for "
                                  f"virtual patients, or leave {sp('seed')} out.")
            pop = Population(pd.DataFrame({"id": ids, "height_cm": 170.0, "weight_kg": 70.0}),
                             description=f"one typical patient (170 cm, 70 kg) per ID of the event table ({len(ids)})")
            return pop, None, pop.description
        n_used = DEFAULT_N if n is None else n
        spec = PopulationSpec()
        return spec, n_used, f"{n_used} virtual patients ({spec.name})"


def _check_compartments(model: Any, regimen: Any) -> None:
    """Every dose record goes into a compartment of the model (else a RegimenError, before the run)."""
    regimens = getattr(regimen, "regimens", None)
    for part in (regimens.values() if regimens is not None else (regimen,)):
        for cmt in dict.fromkeys(d.cmt for d in part.doses):
            model.pk.compartment_index(cmt)


def _drug_regimen_label(drug: Any, text: str | None, planned: Any) -> str:
    from ...regimen import Regimen

    src = drug.regimen_source
    cite = f"{src.author} {src.year}".strip() if not src.is_assumption else "an assumption"
    if isinstance(planned, Regimen):
        what = planned.describe()
    else:
        what = f"{drug.default_regimen} (built per patient from body weight)"
    return f"{what} (the label regimen; {cite})" if text is None else what
