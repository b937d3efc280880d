"""Reference episode for tests/test_advisor.c: a transcription of app.py's
RLAgent, compute_reward and the main loop's 180 s / 15 s schedule, run on a
scripted 3-hour session (one frame every ~2 s). Also Python's round(x, 1) and
x // 20 on awkward values. Usage: gen_analysis_advisor.py OUTDIR
"""
import os
import random
import sys

import numpy as np


class RLAgent:  # app.py, transcribed
    def __init__(self, num_actions=3, lr=0.1, gamma=0.9):
        self.Q = {}
        self.num_actions = num_actions
        self.lr = lr
        self.gamma = gamma
        self.last_state = None
        self.last_action = None

    def _to_key(self, state):
        emo, fat, stress = state
        return (emo, round(fat, 1), int(stress // 20))

    def get_action(self, state):
        key = self._to_key(state)
        if key not in self.Q:
            self.Q[key] = np.zeros(self.num_actions)
        action = int(np.argmax(self.Q[key]))
        self.last_state = key
        self.last_action = action
        return action

    def update(self, new_state, reward):
        if self.last_state is None:
            return
        new_key = self._to_key(new_state)
        if new_key not in self.Q:
            self.Q[new_key] = np.zeros(self.num_actions)
        old_val = self.Q[self.last_state][self.last_action]
        future = np.max(self.Q[new_key])
        self.Q[self.last_state][self.last_action] = old_val + \
            self.lr * (reward + self.gamma * future - old_val)


def compute_reward(prev_state, new_state):  # app.py, transcribed
    emo_prev, fat_prev, stress_prev = prev_state
    emo_new, fat_new, stress_new = new_state
    reward = 0
    emo_rank = {"angry": 0, "sad": 0, "fear": 0, "disgust": 0, "neutral": 1,
                "happy": 2, "surprise": 2, "tired": 0}
    reward += (emo_rank.get(emo_new, 1) - emo_rank.get(emo_prev, 1)) * 2
    reward += (fat_prev - fat_new) * 3
    reward += (stress_prev - stress_new) * 0.1
    return reward


class Schedule:
    """app.py's advisor timing: the agent picks an action when more than 180 s have
    passed since the last one, and learns once from the state more than 15 s later."""

    def __init__(self, agent):
        self.agent = agent
        self.last_intervention = float("-inf")
        self.prev_state = None

    def step(self, t, state):
        """(action or None, reward or None) at time t in state."""
        action = reward = None
        if t - self.last_intervention > 180:
            action = self.agent.get_action(state)
            self.prev_state = state
            self.last_intervention = t
        if self.prev_state is not None and t - self.last_intervention > 15:
            reward = compute_reward(self.prev_state, state)
            self.agent.update(state, reward)
            self.prev_state = None
        return action, reward


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(2024)
    labels = ["neutral", "happy", "sad", "angry", "surprise", "disgust", "fear", "tired",
              "confused"]
    fats = [0.05, 0.15, 0.25, 0.35, 0.45, 0.65, 0.85, 0.1, 0.9, 0.3]
    stresses = [50.0, 59.99999999999999, 60.0, 39.9, 100.0, 20.0, 0.0, 79.5, 33.3]
    sched = Schedule(RLAgent(num_actions=3))
    lines = []
    t = 0.0
    block = None
    while t < 3 * 3600:
        if block is None or rng.random() < 0.08:
            block = (rng.choice(labels), rng.choice(fats), rng.choice(stresses))
        emo, fat, stress = block
        if rng.random() < 0.3:   # small frame-to-frame wobble
            fat = min(1.0, max(0.0, fat + rng.choice([-0.01, 0.0, 0.01])))
        state = (emo, fat, stress)
        action, reward = sched.step(t, state)
        acted, rewarded = int(action is not None), int(reward is not None)
        action, reward = action if acted else 0, reward if rewarded else 0.0
        lines.append("%.17g %s %.17g %.17g %d %d %d %.17g" % (t, emo, fat, stress, acted, action,
                                                             rewarded, reward))
        t += rng.uniform(1.0, 3.0)
    with open(os.path.join(out, "analysis_advisor_episode.txt"), "w") as fh:
        fh.write("%d\n" % len(lines))
        fh.write("\n".join(lines) + "\n")
        fh.write("%d\n" % len(sched.agent.Q))
        for (emo, fat, sbin), q in sched.agent.Q.items():
            fh.write("%s %d %d %.17g %.17g %.17g\n" % (emo, int(round(fat * 10)), sbin, *q))
    vals = [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95, 0.04999999, 0.250001,
            0.0, 1.0, 0.1 + 0.2, 0.7 * 3 / 3, -0.05, -0.15]
    stv = [0.0, 19.999999999999996, 20.0, 39.99999999999999, 40.0, 59.99999999999999, 60.0,
           99.99, 100.0, -0.5, -20.0, 1e-300]
    with open(os.path.join(out, "analysis_advisor_keys.txt"), "w") as fh:
        fh.write("%d\n" % len(vals))
        for v in vals:
            fh.write("%.17g %d\n" % (v, int(round(round(v, 1) * 10))))
        fh.write("%d\n" % len(stv))
        for v in stv:
            fh.write("%.17g %d\n" % (v, int(v // 20)))


if __name__ == "__main__":
    main()
