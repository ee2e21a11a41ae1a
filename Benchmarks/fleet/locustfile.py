"""The Locust side of Benchmarks/fleet: Step Trainers posting NDJSON batches to `stedi serve`,
the same shape as `stedi fleet run` sends (see README.md in this folder).

Each simulated user is one Step Trainer with its own serial number and device token (minted by
`stedi token issue`, read from the JSON file in $FLEET_BENCH_TOKENS: [[serial, token], ...]).
It sends its readings back to back (no wait time, like the fleet's `pacing: asap`): every
request is a fresh batch of $FLEET_BENCH_BATCH readings (default 50) taken 0.1 s apart (10 Hz),
rendered the way a Locust user would write it (an f-string per line), to
POST /v1/step-trainer/readings with `Authorization: Bearer <token>`. A 202 is a success;
anything else is a failure in Locust's statistics.

    FLEET_BENCH_TOKENS=tokens.json locust -f locustfile.py --headless -u 64 -r 64 -t 30s \
        --host http://127.0.0.1:PORT --csv out/locust --only-summary
"""

import itertools
import json
import os
import time

from locust import FastHttpUser, constant, task

PATH = "/v1/step-trainer/readings"
BATCH = int(os.environ.get("FLEET_BENCH_BATCH", "50"))
with open(os.environ["FLEET_BENCH_TOKENS"]) as f:
    TOKENS = json.load(f)
_users = itertools.count()


class StepTrainer(FastHttpUser):
    # Back to back, as the fleet's asap pacing: the next request goes when the previous is answered.
    wait_time = constant(0)

    def on_start(self):
        index = next(_users)
        self.serial, token = TOKENS[index % len(TOKENS)]
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
        self.clock = int(time.time() * 1000) + index  # ms; readings 100 ms apart (10 Hz)
        self.step = index * 7

    @task
    def post_readings(self):
        t, serial, step = self.clock, self.serial, self.step
        # A distance in cm to 0.1 that moves between 15.0 and 44.9, like a foot on a Step Trainer.
        lines = []
        for i in range(BATCH):
            tenths = 150 + (step + i) * 37 % 300
            lines.append(f'{{"sensorReadingTime":{t + 100 * i},"serialNumber":"{serial}",'
                         f'"distanceFromObject":{tenths // 10}.{tenths % 10}}}\n')
        body = "".join(lines)
        self.clock = t + 100 * BATCH
        self.step = step + BATCH
        self.client.post(PATH, data=body, headers=self.headers)
