"""Casting: which effect plays which band session.

Every effect gets a cost per session (:mod:`pipeline.sessions.scoring`); an optimal assignment
(``scipy.optimize.linear_sum_assignment``) then gives each session one effect and no effect two sessions, so with
four or more effects the band is full. Effects left over become ranked alternates.

Overrides (the user's choices) are fixed first and only the rest is re-solved. One effect may be pinned to more than
one session on purpose (a person may want the same bell on keys and guitar); the automatic part never doubles.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from pipeline.errors import WaveInputError
from pipeline.sessions.features import EffectFeatures, analyse_effect
from pipeline.sessions.scoring import SessionScore, score_effect
from pipeline.types import SESSIONS, Alternate, CastChoice, Casting, EffectInput, Session

YOUR_CHOICE = "(your choice)"


def cast(
    effects: list[EffectInput],
    overrides: dict[Session, str] | None = None,
    *,
    features: dict[str, EffectFeatures] | None = None,
) -> Casting:
    """Cast ``effects`` into the four sessions. ``features`` (by effect id) skips analysis for effects it covers."""
    by_id = _index(effects)
    pinned = _validate_overrides(overrides or {}, by_id)
    features = dict(features or {})
    for effect in effects:
        if effect.id not in features:
            features[effect.id] = analyse_effect(effect)
    scores = {e.id: score_effect(e, features[e.id]) for e in effects}

    choices: dict[Session, CastChoice] = {
        session: CastChoice(
            session=session,
            effect_id=effect_id,
            reason=f"{YOUR_CHOICE} {scores[effect_id][session].reason}",
            cost=scores[effect_id][session].cost,
            overridden=True,
        )
        for session, effect_id in pinned.items()
    }
    free_sessions = [s for s in SESSIONS if s not in pinned]
    free_effects = sorted((e.id for e in effects if e.id not in pinned.values()))
    for session, effect_id in _assign(free_effects, free_sessions, scores):
        score = scores[effect_id][session]
        choices[session] = CastChoice(session=session, effect_id=effect_id, reason=score.reason, cost=score.cost)

    ordered = {s: choices[s] for s in SESSIONS if s in choices}
    used = {c.effect_id for c in ordered.values()}
    empty = _empty_reasons(ordered, effects, pinned)
    notes = [note for e in effects for note in features[e.id].notes]
    return Casting(
        choices=ordered,
        empty=empty,
        alternates=_alternates([e.id for e in effects if e.id not in used], scores),
        scores={e.id: {s: scores[e.id][s].cost for s in SESSIONS} for e in effects},
        notes=notes,
    )


def best_sessions(effect: EffectInput, features: EffectFeatures) -> list[SessionScore]:
    """Sessions for one effect alone, best first (ties in the order WAVE lists sessions)."""
    scores = score_effect(effect, features)
    return sorted(scores.values(), key=lambda s: (s.cost, SESSIONS.index(s.session)))


def cast_files(
    paths: list[Path], overrides: dict[Session, str] | None = None
) -> tuple[Casting, list[EffectInput]]:
    """Cast plain files; each effect's id and name are its file stem (made unique if stems repeat)."""
    effects: list[EffectInput] = []
    seen: dict[str, int] = {}
    for path in paths:
        stem = Path(path).stem
        seen[stem] = seen.get(stem, 0) + 1
        effect_id = stem if seen[stem] == 1 else f"{stem}-{seen[stem]}"
        effects.append(EffectInput(id=effect_id, path=Path(path), name=stem.replace("_", " ")))
    return cast(effects, overrides), effects


def move(assignment: Mapping[Session, str], variant_id: str, session: Session | str) -> tuple[dict[Session, str], str]:
    """The remap rule: ``variant_id`` takes ``session``; the sound that held it takes the moved sound's old session.

    ``assignment`` maps session -> effect id. If the moved sound held no session (an alternate), the old holder is
    left out; if ``session`` was empty, the moved sound's old session is left out, for the caller to fill. Returns
    the new assignment and the change in words, e.g. ``"e2 moved bass -> keyboard; e4 moved keyboard -> bass"``.
    """
    target = _session(session)
    new = dict(assignment)
    holder = assignment.get(target)
    if holder == variant_id:
        return new, f"{variant_id} already plays {target.value}"
    previous = next((s for s, effect_id in assignment.items() if effect_id == variant_id), None)
    new[target] = variant_id
    if previous is None:
        return new, f"{variant_id} now plays {target.value}" + (f" (instead of {holder})" if holder else "")
    if holder is None:
        del new[previous]
        return new, f"{variant_id} moved {previous.value} -> {target.value}"
    new[previous] = holder
    return new, (f"{variant_id} moved {previous.value} -> {target.value}; "
                 f"{holder} moved {target.value} -> {previous.value}")


def remap(casting: Casting, effects: list[EffectInput], variant_id: str, session: Session | str) -> Casting:
    """Apply a person's move (a reaction in chat) to a whole casting, by the rule of :func:`move`.

    The old holder takes the moved sound's place; if the moved sound was an alternate, the old holder becomes the
    first alternate. If the target was empty, the moved sound's old session takes the best alternate, or is empty.
    Other choices stay as they were.
    """
    by_id = _index(effects)
    target = _session(session)
    if variant_id not in by_id:
        raise WaveInputError(f"No sound called {variant_id!r} in this casting.")
    result = casting.model_copy(deep=True)
    before = {s: c.effect_id for s, c in result.choices.items()}
    after, _ = move(before, variant_id, target)
    if after == before:
        holder = result.choices[target]
        holder.overridden = True
        holder.reason = _your_choice(holder.reason)
        return result

    scores = result.scores
    result.choices[target] = CastChoice(
        session=target,
        effect_id=variant_id,
        reason=f"{YOUR_CHOICE} moved here",
        cost=scores.get(variant_id, {}).get(target),
        overridden=True,
    )
    result.empty.pop(target, None)
    result.alternates = [a for a in result.alternates if a.effect_id != variant_id]
    for other in SESSIONS:
        if other == target or after.get(other) == before.get(other):
            continue
        if other in after:  # the old holder, swapped into the moved sound's old session
            result.choices[other] = CastChoice(
                session=other,
                effect_id=after[other],
                reason=f"swapped with {_label(by_id, variant_id)}",
                cost=scores.get(after[other], {}).get(other),
            )
        else:
            _refill(result, other, by_id, variant_id)
    displaced = before.get(target)
    if displaced is not None and displaced not in after.values():
        result.alternates.insert(
            0,
            Alternate(
                effect_id=displaced,
                best_session=target,
                reason=f"gave {target.value} to {_label(by_id, variant_id)}",
                rank=0,
            ),
        )
    result.choices = {s: result.choices[s] for s in SESSIONS if s in result.choices}
    for rank, alternate in enumerate(result.alternates, start=1):
        alternate.rank = rank
    return result


# ------------------------------------------------------------------------------------------------------ helpers


def _index(effects: list[EffectInput]) -> dict[str, EffectInput]:
    by_id: dict[str, EffectInput] = {}
    for effect in effects:
        if effect.id in by_id:
            raise WaveInputError(f"Two effects share the id {effect.id!r}; each sound needs its own.")
        by_id[effect.id] = effect
    return by_id


def _session(value: Session | str) -> Session:
    try:
        return Session(str(value).strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in SESSIONS)
        raise WaveInputError(f"Unknown session {value!r}; choose one of {names}.") from None


def _validate_overrides(overrides: dict[Session, str], by_id: dict[str, EffectInput]) -> dict[Session, str]:
    pinned: dict[Session, str] = {}
    for session, effect_id in overrides.items():
        if effect_id not in by_id:
            known = ", ".join(sorted(by_id)) or "none"
            raise WaveInputError(f"Cannot put {effect_id!r} on {session}: no such sound (sounds: {known}).")
        pinned[_session(session)] = effect_id
    return pinned


def _assign(
    effect_ids: list[str], sessions: list[Session], scores: dict[str, dict[Session, SessionScore]]
) -> list[tuple[Session, str]]:
    """Minimum-cost matching of effects to sessions.

    ``effect_ids`` arrive sorted, and linear_sum_assignment breaks ties by position, so equal costs always resolve
    the same way (lowest id, first session).
    """
    if not effect_ids or not sessions:
        return []
    cost = np.array([[scores[e][s].cost for s in sessions] for e in effect_ids])
    rows, cols = linear_sum_assignment(cost)
    return [(sessions[c], effect_ids[r]) for r, c in zip(rows, cols)]


def _empty_reasons(
    choices: dict[Session, CastChoice], effects: list[EffectInput], pinned: dict[Session, str]
) -> dict[Session, str]:
    empty: dict[Session, str] = {}
    for session in SESSIONS:
        if session in choices:
            continue
        if not effects:
            empty[session] = "no sounds to cast"
        elif len(effects) < len(SESSIONS) and not pinned:
            plural = "s" if len(effects) != 1 else ""
            empty[session] = f"only {len(effects)} sound{plural} for {len(SESSIONS)} sessions; others fit better"
        else:
            empty[session] = "every sound is already playing a session you chose"
    return empty


def _alternates(effect_ids: list[str], scores: dict[str, dict[Session, SessionScore]]) -> list[Alternate]:
    def best(effect_id: str) -> SessionScore:
        return min(scores[effect_id].values(), key=lambda s: (s.cost, SESSIONS.index(s.session)))

    ranked = sorted(effect_ids, key=lambda e: (best(e).cost, e))
    return [
        Alternate(effect_id=e, best_session=best(e).session, reason=best(e).reason, rank=rank)
        for rank, e in enumerate(ranked, start=1)
    ]


def _refill(result: Casting, session: Session, by_id: dict[str, EffectInput], moved_id: str) -> None:
    """``session`` lost its sound to a move into an empty session: take the best alternate for it, if any."""
    candidates = [a for a in result.alternates if session in result.scores.get(a.effect_id, {})]
    if not candidates:
        result.choices.pop(session, None)
        result.empty[session] = f"its sound, {_label(by_id, moved_id)}, moved to another session"
        return
    pick = min(candidates, key=lambda a: (result.scores[a.effect_id][session], a.effect_id))
    result.alternates = [a for a in result.alternates if a.effect_id != pick.effect_id]
    result.choices[session] = CastChoice(
        session=session,
        effect_id=pick.effect_id,
        reason=f"best alternate after {_label(by_id, moved_id)} moved",
        cost=result.scores[pick.effect_id][session],
    )


def _your_choice(reason: str) -> str:
    return reason if reason.startswith(YOUR_CHOICE) else f"{YOUR_CHOICE} {reason}"


def _label(by_id: dict[str, EffectInput], effect_id: str) -> str:
    effect = by_id.get(effect_id)
    return (effect.name or effect.id) if effect else effect_id
