#!/usr/bin/python3
"""scale_k8s.py: a plain reference implementation of the seed's design, for bench/compare.

What the seed's `scale_k8s.py` describes (docs/seed-readme.md), written the way a
user of Debian's python3-confluent-kafka (1.7.0 on librdkafka 2.0.2) and python3-kubernetes
(22.6) would write it, without telemetry export:

  every SCALE_INTERVAL_SECONDS (fixed rate, as the daemon's loop):
    1. metadata of KAFKA_TOPIC (comma list summed): Consumer.list_topics(topic)
    2. high and low watermarks, batched: Consumer.offsets_for_times with the -1 (latest) and
       -2 (earliest) sentinels, one ListOffsets request per leader broker for all partitions
       (get_watermark_offsets would be one round trip per partition; confluent-kafka 1.7 has
       no AdminClient.list_offsets)
    3. with KAFKA_CONSUMER_GROUP: the group's committed offsets, Consumer.committed(partitions),
       one OffsetFetch (no AdminClient.list_consumer_group_offsets in 1.7)
    4. backlog: without a group the topic's message count, sum of high - low (the seed's
       meaning); with a group its lag, high - max(committed, low) per partition, clamped at 0;
       no commit: KAFKA_OFFSET_RESET_POLICY earliest -> high - low, latest -> 1 while the
       partition holds messages
    5. the seed rule: ceil(backlog / MESSAGES_PER_POD) clamped to [MIN_REPLICAS, MAX_REPLICAS];
       backlog zero for MIN_TTL_SECONDS -> 0 replicas; a warning above MESSAGE_COUNT_THRESHOLD;
       throughput in messages per minute from the change of the summed high watermarks
    6. read the scale subresource (AppsV1Api.read_namespaced_deployment_scale) and patch it
       (patch_namespaced_deployment_scale) only when the desired count differs
  plus the seed's health check server on HEALTH_CHECK_PORT (GET / -> 200 while ticking).

Kubernetes credentials: in-cluster, else KUBECONFIG / ~/.kube/config (the client's loaders).
Logs: one JSON line per event on stdout ("scaled deployment", "no scaling needed", ...).
Usage: /usr/bin/python3 scale_k8s.py [--max-ticks N]   (N ticks, then exit 0)
"""

import argparse
import http.server
import json
import logging
import math
import os
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

KAFKA_BOOTSTRAP_SERVERS = os.getenv("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
KAFKA_TOPIC = os.getenv("KAFKA_TOPIC", "my_topic")
NAMESPACE = os.getenv("NAMESPACE", "default")
DEPLOYMENT_NAME = os.getenv("DEPLOYMENT_NAME", "my-deployment")
MESSAGES_PER_POD = int(os.getenv("MESSAGES_PER_POD", "10"))
MIN_REPLICAS = int(os.getenv("MIN_REPLICAS", "1"))
MAX_REPLICAS = int(os.getenv("MAX_REPLICAS", "10"))
HEALTH_CHECK_PORT = int(os.getenv("HEALTH_CHECK_PORT", "8000"))
MIN_TTL_SECONDS = int(os.getenv("MIN_TTL_SECONDS", "300"))
SCALE_INTERVAL_SECONDS = int(os.getenv("SCALE_INTERVAL_SECONDS", "60"))
MESSAGE_COUNT_THRESHOLD = int(os.getenv("MESSAGE_COUNT_THRESHOLD", "1000"))
KAFKA_CONSUMER_GROUP = os.getenv("KAFKA_CONSUMER_GROUP")
KAFKA_OFFSET_RESET_POLICY = os.getenv("KAFKA_OFFSET_RESET_POLICY", "latest")
TIMEOUT_SECONDS = 10.0


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {"ts": self.formatTime(record), "level": record.levelname.lower(),
                "msg": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        return json.dumps(line)


handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(JsonFormatter())
log = logging.getLogger("scale_k8s")
log.addHandler(handler)
log.setLevel(logging.INFO)

healthy = {"ok": False}


class HealthHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if healthy["ok"] else 503)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"OK" if healthy["ok"] else b"NOT OK")

    def log_message(self, *args):
        pass


def start_health_server():
    server = http.server.ThreadingHTTPServer(("0.0.0.0", HEALTH_CHECK_PORT), HealthHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def load_kube():
    try:
        k8s_config.load_incluster_config()
    except k8s_config.ConfigException:
        k8s_config.load_kube_config()
    return k8s_client.AppsV1Api()


def partitions_of(consumer, topics):
    """Metadata: every partition of the watched topics."""
    result = []
    for topic in topics:
        md = consumer.list_topics(topic, timeout=TIMEOUT_SECONDS)
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            raise KafkaException(t.error if t is not None else "topic %s not found" % topic)
        result.extend(TopicPartition(topic, p) for p in sorted(t.partitions))
    return result


def watermarks(consumer, partitions):
    """Batched ListOffsets: -1 asks for the latest offset (high), -2 for the earliest (low)."""
    high = consumer.offsets_for_times([TopicPartition(tp.topic, tp.partition, -1)
                                       for tp in partitions], timeout=TIMEOUT_SECONDS)
    low = consumer.offsets_for_times([TopicPartition(tp.topic, tp.partition, -2)
                                      for tp in partitions], timeout=TIMEOUT_SECONDS)
    for tp in high + low:
        if tp.error is not None:
            raise KafkaException(tp.error)
    return ({(tp.topic, tp.partition): tp.offset for tp in high},
            {(tp.topic, tp.partition): tp.offset for tp in low})


def committed(consumer, partitions):
    answer = consumer.committed(partitions, timeout=TIMEOUT_SECONDS)
    for tp in answer:
        if tp.error is not None:
            raise KafkaException(tp.error)
    return {(tp.topic, tp.partition): tp.offset for tp in answer}


def backlog_of(high, low, commits):
    total = 0
    for key, h in high.items():
        lo = max(low[key], 0)
        if commits is None:
            total += max(h - lo, 0)
            continue
        c = commits.get(key, -1001)
        if c < 0:  # no commit (OFFSET_INVALID)
            if KAFKA_OFFSET_RESET_POLICY == "earliest":
                total += max(h - lo, 0)
            else:
                total += 1 if h > lo else 0
        else:
            total += max(h - max(c, lo), 0)
    return total


class Scaler:
    def __init__(self, consumer, apps):
        self.consumer = consumer
        self.apps = apps
        self.topics = [t.strip() for t in KAFKA_TOPIC.split(",") if t.strip()]
        self.zero_since = None
        self.last_high_sum = None
        self.last_at = None

    def tick(self):
        now = time.monotonic()
        partitions = partitions_of(self.consumer, self.topics)
        high, low = watermarks(self.consumer, partitions)
        commits = committed(self.consumer, partitions) if KAFKA_CONSUMER_GROUP else None
        backlog = backlog_of(high, low, commits)

        high_sum = sum(high.values())
        if self.last_high_sum is not None and now > self.last_at:
            throughput = (high_sum - self.last_high_sum) * 60.0 / (now - self.last_at)
            log.info("message throughput", extra={"fields": {"per_minute": round(throughput, 1)}})
        self.last_high_sum, self.last_at = high_sum, now

        recommended = math.ceil(backlog / MESSAGES_PER_POD)
        if backlog > MESSAGE_COUNT_THRESHOLD:
            log.warning("backlog above threshold",
                        extra={"fields": {"backlog": backlog, "threshold": MESSAGE_COUNT_THRESHOLD,
                                          "recommended": recommended}})
        desired = min(max(recommended, MIN_REPLICAS), MAX_REPLICAS)
        if backlog == 0:
            if self.zero_since is None:
                self.zero_since = now
            if now - self.zero_since >= MIN_TTL_SECONDS:
                desired = 0
        else:
            self.zero_since = None

        scale = self.apps.read_namespaced_deployment_scale(DEPLOYMENT_NAME, NAMESPACE)
        current = scale.spec.replicas or 0
        fields = {"deployment": DEPLOYMENT_NAME, "from": current, "to": desired,
                  "backlog": backlog, "partitions": len(partitions)}
        if desired == current:
            log.info("no scaling needed", extra={"fields": fields})
            return
        self.apps.patch_namespaced_deployment_scale(DEPLOYMENT_NAME, NAMESPACE,
                                                    {"spec": {"replicas": desired}})
        log.info("scaled deployment", extra={"fields": fields})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-ticks", type=int, default=None, help="run N ticks, then exit 0")
    args = parser.parse_args()

    consumer = Consumer({
        "bootstrap.servers": KAFKA_BOOTSTRAP_SERVERS,
        # committed() asks this group's coordinator; the consumer never joins it.
        "group.id": KAFKA_CONSUMER_GROUP or "scale-k8s",
        "enable.auto.commit": False,
    })
    apps = load_kube()
    start_health_server()
    scaler = Scaler(consumer, apps)
    log.info("starting", extra={"fields": {"topic": KAFKA_TOPIC, "group": KAFKA_CONSUMER_GROUP,
                                           "interval_seconds": SCALE_INTERVAL_SECONDS}})
    ticks = 0
    next_at = time.monotonic()
    try:
        while args.max_ticks is None or ticks < args.max_ticks:
            try:
                scaler.tick()
                healthy["ok"] = True
            except Exception as e:  # noqa: BLE001 -- hold replicas on any failure, keep ticking
                healthy["ok"] = False
                log.error("tick failed; holding replicas", extra={"fields": {"error": str(e)}})
            ticks += 1
            if args.max_ticks is not None and ticks >= args.max_ticks:
                break
            # Fixed rate; an overrun tick starts the next one at once, no burst.
            next_at = max(next_at + SCALE_INTERVAL_SECONDS, time.monotonic())
            time.sleep(max(0.0, next_at - time.monotonic()))
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    log.info("stopped", extra={"fields": {"ticks": ticks}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
