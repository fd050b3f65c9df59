"""gym-sokoban steps per second on the same levels and random actions as `laser bench env`.

Levels are loaded into gym-sokoban's SokobanEnv directly (its own reset would generate a new
room), and actions 1-4 (push-or-move up, down, left, right) match laser's actions 0-3.
Prints one JSON object. Run by scripts/bench-env.sh inside a venv.
"""
import json
import sys
import time

import numpy as np
from gym_sokoban.envs.sokoban_env import SokobanEnv

from bench_levels import read_levels, splitmix64


def to_arrays(board, size=10):
    """gym-sokoban's room_fixed (0 wall, 1 floor, 2 goal) and room_state (+3 box on goal,
    4 box, 5 player)."""
    fixed = np.zeros((size, size), dtype=int)
    state = np.zeros((size, size), dtype=int)
    player = None
    for r, row in enumerate(board):
        for c, ch in enumerate(row):
            goal = ch in ".*+"
            if ch == "#":
                continue
            fixed[r, c] = 2 if goal else 1
            state[r, c] = fixed[r, c]
            if ch in "$*":
                state[r, c] = 3 if goal else 4
            if ch in "@+":
                state[r, c] = 5
                player = np.array([r, c])
    return fixed, state, player


def load(env, arrays):
    fixed, state, player = arrays
    env.room_fixed = fixed.copy()
    env.room_state = state.copy()
    env.player_position = player.copy()
    env.num_boxes = int(np.sum((state == 3) | (state == 4)))
    env.boxes_on_target = int(np.sum(state == 3))
    env.num_env_steps = 0
    env.reward_last = 0


def measure(levels, actions, steps, mode):
    env = SokobanEnv(reset=False)
    nxt = 0
    load(env, levels[0])
    episodes = solved = 0
    total_reward = 0.0
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(steps):
        if mode == "logic":
            # The step's rules and reward without drawing an observation.
            env.num_env_steps += 1
            env._push(actions[i % len(actions)] + 1)
            env._calc_reward()
            done = env._check_if_done()
            total_reward += env.reward_last
        else:
            _, reward, done, _ = env.step(actions[i % len(actions)] + 1, observation_mode=mode)
            total_reward += reward
        if done:
            episodes += 1
            solved += int(env._check_if_all_boxes_on_target())
            nxt = (nxt + 1) % len(levels)
            load(env, levels[nxt])
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return {"steps": steps, "seconds": seconds, "stepsPerSecond": steps / seconds,
            "cpuSeconds": cpu, "stepsPerCpuSecond": steps / cpu,
            "episodes": episodes, "solved": solved, "totalReward": round(total_reward, 3)}


def main():
    path = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    levels = [to_arrays(b) for b in read_levels(path)]
    gen = splitmix64(seed)
    actions = [next(gen) & 3 for _ in range(1 << 16)]
    report = {"implementation": "gym-sokoban", "levels": path, "levelCount": len(levels)}
    # rgb_array draws 160x160 frames in Python and manages about 50 steps/s: fewer steps there.
    counts = {"rgb_array": max(1, steps // 20), "tiny_rgb_array": steps, "logic": steps * 5}
    for mode, n in counts.items():
        report[mode] = measure(levels, actions, n, mode)
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
