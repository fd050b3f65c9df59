"""jumanji's Sokoban steps per second on the same levels and random actions as `laser bench env`.

Single: one jit-compiled `step` called from Python per step (the host reads `done` each step).
Batched: `jit(vmap(step))` over B environments, done ones reset to the next level inside the
compiled function. Compilation is excluded from the timing. Prints one JSON object.
Run by scripts/bench-env.sh inside a venv; needs jax and jumanji.
"""
import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from jumanji.environments.routing.sokoban import Sokoban
from jumanji.environments.routing.sokoban.generator import ToyGenerator
from jumanji.environments.routing.sokoban.types import State

from bench_levels import read_levels, splitmix64

# laser's actions (up, down, left, right) in jumanji's order (up, right, down, left).
TO_JUMANJI = np.array([0, 2, 3, 1], dtype=np.int32)


def to_grids(board, size=10):
    fixed = np.zeros((size, size), dtype=np.uint8)
    variable = np.zeros((size, size), dtype=np.uint8)
    agent = None
    for r, row in enumerate(board):
        for c, ch in enumerate(row.ljust(size)[:size]):
            if ch == "#":
                fixed[r, c] = 1
            if ch in ".*+":
                fixed[r, c] = 2
            if ch in "$*":
                variable[r, c] = 4
            if ch in "@+":
                variable[r, c] = 3
                agent = (r, c)
    return fixed, variable, np.array(agent, dtype=np.int32)


def main():
    path = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    batch_steps = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    grids = [to_grids(b) for b in read_levels(path)]
    fixed = jnp.array(np.stack([g[0] for g in grids]))
    variable = jnp.array(np.stack([g[1] for g in grids]))
    agents = jnp.array(np.stack([g[2] for g in grids]))
    n_levels = len(grids)
    gen = splitmix64(0)
    actions = TO_JUMANJI[np.array([next(gen) & 3 for _ in range(1 << 16)])]
    env = Sokoban(generator=ToyGenerator())
    key = jax.random.PRNGKey(0)

    def make_state(i):
        return State(key=key, fixed_grid=fixed[i], variable_grid=variable[i],
                     agent_location=agents[i], step_count=jnp.array(0, jnp.int32))

    step = jax.jit(env.step)
    make = jax.jit(make_state)
    state = make(0)
    state, ts = step(state, jnp.int32(actions[0]))  # compile
    jax.block_until_ready(ts)
    state = make(0)
    nxt, episodes, total = 0, 0, 0.0
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(steps):
        state, ts = step(state, jnp.int32(actions[i % len(actions)]))
        total += float(ts.reward)
        if bool(ts.last()):
            episodes += 1
            nxt = (nxt + 1) % n_levels
            state = make(nxt)
    single_seconds = time.perf_counter() - start
    single_cpu = time.process_time() - cpu_start

    def batched_step(states, acts, cursor):
        states, ts = jax.vmap(env.step)(states, acts)
        done = ts.last()
        idx = (cursor + jnp.cumsum(done)) % n_levels
        fresh = jax.vmap(make_state)(idx)
        states = jax.tree_util.tree_map(
            lambda new, old: jnp.where(done.reshape((-1,) + (1,) * (old.ndim - 1)), new, old),
            fresh, states)
        return states, ts.reward, cursor + jnp.sum(done)

    bstep = jax.jit(batched_step)
    states = jax.vmap(make_state)(jnp.arange(batch) % n_levels)
    cursor = jnp.int32(batch % n_levels)
    acts_all = jnp.array(actions)
    a = jax.lax.dynamic_slice(acts_all, (0,), (batch,))
    s2, r, c2 = bstep(states, a, cursor)  # compile
    jax.block_until_ready(r)
    start, cpu_start = time.perf_counter(), time.process_time()
    for t in range(batch_steps):
        off = (t * batch) % (len(actions) - batch)
        a = jax.lax.dynamic_slice(acts_all, (off,), (batch,))
        states, r, cursor = bstep(states, a, cursor)
    jax.block_until_ready(r)
    batch_seconds = time.perf_counter() - start
    batch_cpu = time.process_time() - cpu_start
    report = {
        "implementation": "jumanji " + __import__("jumanji").__version__,
        "jax": jax.__version__, "device": str(jax.devices()[0]),
        "levels": path, "levelCount": n_levels,
        "single": {"steps": steps, "seconds": single_seconds,
                   "stepsPerSecond": steps / single_seconds, "cpuSeconds": single_cpu,
                   "stepsPerCpuSecond": steps / single_cpu, "episodes": episodes,
                   "totalReward": round(total, 3)},
        "batched": {"steps": batch * batch_steps, "seconds": batch_seconds,
                    "stepsPerSecond": batch * batch_steps / batch_seconds,
                    "cpuSeconds": batch_cpu,
                    "stepsPerCpuSecond": batch * batch_steps / batch_cpu},
        "batch": batch,
    }
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
