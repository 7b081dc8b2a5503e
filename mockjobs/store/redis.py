"""The Redis engine: the store on a Redis server (6.2 or later) that every host names.

Jobs are hashes (one per job) ordered by a sorted set, scenario versions a hash by content
hash, the journal a capped stream (plus one per job, trimmed to the same window), the clock a
key changed under WATCH, counters HINCRBY; every multi-key change is one Lua script, so no
read-modify-write loses an update between hosts. How a worker learns that another changed
something: each change also INCRs a version key, and cached reads are trusted while the
version keys (one MGET) stand still.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..clock import ClockState
from ..errors import Conflict, NotFound, Stale, StoreUnavailable
from ..timeline import Job
from .base import ADDED, CHANGED, JOURNAL_MAX, SERVER_TTL_S, ReadCache, compact, job_doc, job_from, moved
from .batching import BatchedJournal, Row

F = TypeVar("F", bound=Callable[..., Any])
_DOWN = (RedisConnectionError, RedisTimeoutError, redis.exceptions.BusyLoadingError)
_TIMEOUT_S = 2.0  # socket timeouts: a Redis that is gone answers 503 within seconds, never hangs

# Every change bumps a counter key and publishes on a channel of the same name (see _Changes).
_BUMP = """
local function bump(key)
  redis.call('PUBLISH', key, redis.call('INCR', key))
end
"""
_ADD_JOB = (
    _BUMP
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'seq', seq, 'rev', 0, 'start', ARGV[3], 'cancel', ARGV[4])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
bump(KEYS[4])
return seq
"""
)
_UPDATE_JOB = (
    _BUMP
    + """
local cur = redis.call('HMGET', KEYS[1], 'seq', 'rev')
if not cur[1] or cur[1] ~= ARGV[1] then return -1 end
if cur[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'start', ARGV[3], 'cancel', ARGV[4], 'rev', tonumber(ARGV[2]) + 1)
bump(KEYS[2])
return 1
"""
)
_DELETE_JOB = (
    _BUMP
    + """
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
bump(KEYS[3])
return 1
"""
)
_ADD_SCENARIO = (
    _BUMP
    + """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
bump(KEYS[4])
return 1
"""
)
_PUT_FAULT = (
    _BUMP
    + """
if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
end
bump(KEYS[4])
"""
)
_DELETE_FAULT = (
    _BUMP
    + """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
bump(KEYS[3])
return 1
"""
)
_RESET = (
    _BUMP
    + """
local prefix = ARGV[1]
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  redis.call('DEL', prefix .. 'job:' .. id)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
bump(KEYS[5])
bump(KEYS[6])
"""
)
# A batch of journal entries: ARGV limit, approx ('1': MAXLEN ~), mark ('' for none), now (epoch
# ms), then per entry (at ns, entry JSON, index in KEYS of its job's stream or 0); KEYS stream,
# count, the set of job streams, marks ("since:batches" by mark), then the job streams.
_APPEND = """
local limit, approx, mark = ARGV[1], ARGV[2], ARGV[3]
local touched = {}
local n = (#ARGV - 4) / 3
for i = 0, n - 1 do
  local at, entry, k = ARGV[5 + 3 * i], ARGV[6 + 3 * i], tonumber(ARGV[7 + 3 * i])
  local id
  if approx == '1' then
    id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', limit, '*', 't', at, 'e', entry)
  else
    id = redis.call('XADD', KEYS[1], 'MAXLEN', limit, '*', 't', at, 'e', entry)
  end
  if k > 0 then
    redis.call('XADD', KEYS[k], id, 't', at, 'e', entry)
    touched[KEYS[k]] = true
  end
end
if n > 0 then redis.call('INCRBY', KEYS[2], n) end
if mark ~= '' then
  local old = redis.call('HGET', KEYS[4], mark)
  local batches = old and tonumber(string.match(old, ':(%d+)$')) or 0
  redis.call('HSET', KEYS[4], mark, ARGV[4] .. ':' .. (batches + 1))
end
local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if head then
  for key in pairs(touched) do
    redis.call('XTRIM', key, 'MINID', head[1])
    redis.call('SADD', KEYS[3], key)
  end
  -- and one other job's stream, picked at random, loses what fell out of the window
  local other = redis.call('SRANDMEMBER', KEYS[3])
  if other and not touched[other] then
    redis.call('XTRIM', other, 'MINID', head[1])
    if redis.call('XLEN', other) == 0 then
      redis.call('DEL', other)
      redis.call('SREM', KEYS[3], other)
    end
  end
end
"""
_CLEAR_JOURNAL = """
for _, key in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1], KEYS[2])
"""


class _Changes:
    """This process's view of the change counters, kept fresh by Redis pub/sub instead of a round trip per read.

    Each change INCRs a counter key and PUBLISHes on the channel of the same name. stamp()
    first reads, without waiting, whatever messages have reached this process's subscriber
    socket; only if one came (or this process wrote, or the subscription is not up) does it
    read the counters again (one MGET). Redis writes the message to the subscribers in the
    same pass of its event loop as the writer's answer, so a read that follows a write sees it. One per
    process and store URL, shared by the store objects of that process.
    """

    def __init__(self, client: redis.Redis, keys: tuple[str, str]) -> None:
        self.client = client
        self.keys = keys
        self._lock = threading.Lock()
        self._pid = 0
        self._pubsub: Any = None
        self._dirty = True
        self._counters = (0, 0)

    def mark(self) -> None:
        """This process wrote: read the counters again before the next cached read."""
        self._dirty = True

    def stamp(self, slots: tuple[int, ...]) -> tuple[int, ...]:
        """The counters of slots, as fresh as the last message that reached this process."""
        with self._lock:
            if self._pid != os.getpid():  # a forked worker subscribes on its own connection
                self._pid, self._pubsub, self._dirty = os.getpid(), None, True
            if self._pubsub is None:
                self._subscribe()
            else:
                self._drain()
            if self._dirty:
                self._counters = tuple(int(v or 0) for v in self.client.mget(self.keys))  # type: ignore[assignment]
                self._dirty = self._pubsub is None  # without a subscription, every read asks again
            return tuple(self._counters[s] for s in slots)

    def _subscribe(self) -> None:
        pubsub = self.client.pubsub()
        try:
            pubsub.subscribe(*self.keys)
            confirmed, deadline = 0, time.monotonic() + _TIMEOUT_S
            while confirmed < len(self.keys):  # subscribed before the counters are read: no change missed
                message = pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
                if message is None and time.monotonic() > deadline:
                    raise RedisTimeoutError("no subscription confirmed")
                if message is not None and message["type"] == "subscribe":
                    confirmed += 1
        except (redis.exceptions.RedisError, OSError):
            with contextlib.suppress(Exception):
                pubsub.close()
            return
        self._pubsub, self._dirty = pubsub, True

    def _drain(self) -> None:
        try:
            while self._pubsub.get_message(timeout=0.0) is not None:
                self._dirty = True  # a change, or a re-subscription after a reconnect (changes may be missed)
        except (redis.exceptions.RedisError, OSError):
            with contextlib.suppress(Exception):
                self._pubsub.close()
            self._pubsub, self._dirty = None, True


_SHARED: dict[tuple[str, str], _Changes] = {}
_SHARED_LOCK = threading.Lock()


def _changes_for(url: str, prefix: str, client: redis.Redis, keys: tuple[str, str]) -> _Changes:
    """The one _Changes of this process for a Redis URL and key prefix."""
    with _SHARED_LOCK:
        found = _SHARED.get((url, prefix))
        if found is None:
            found = _SHARED[(url, prefix)] = _Changes(client, keys)
        return found


def _changing(method: F) -> F:
    """method, a write: this process reads the change counters again before its next cached read."""

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self._changes.mark()
            self._reads.forget_pin()

    return call  # type: ignore[return-value]


def _guarded(method: F) -> F:
    """method, with a Redis that cannot be reached reported as StoreUnavailable."""

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except _DOWN as exc:
            raise StoreUnavailable(f"the store {self.url} cannot be reached: {exc}") from None

    return call  # type: ignore[return-value]


class RedisStore:
    """The Store on one Redis database, shared by every process on every host that names it."""

    def __init__(self, url: str, *, journal_max: int = JOURNAL_MAX, prefix: str | None = None) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        self.url = parts._replace(netloc=netloc, query="").geturl()  # shown: never the password
        self.prefix = prefix or query.pop("prefix", ["mockjobs:"])[0]
        clean = parts._replace(query="&".join(f"{k}={v[0]}" for k, v in query.items())).geturl()
        self.client = redis.Redis.from_url(
            clean, decode_responses=True, socket_timeout=_TIMEOUT_S, socket_connect_timeout=_TIMEOUT_S
        )
        p = self.prefix
        self.k_order, self.k_seq = p + "jobs", p + "jobs:seq"
        self.k_src, self.k_added = p + "src", p + "added"
        self.k_added_order, self.k_added_seq = p + "added:order", p + "added:seq"
        self.k_clock, self.k_meta, self.k_counters = p + "clock", p + "meta", p + "counters"
        self.k_faults, self.k_fault_order, self.k_fault_seq = p + "faults", p + "faults:order", p + "faults:seq"
        self.k_servers = p + "servers"
        self.k_removed = p + "resources:removed"
        self.k_gen = (p + "gen:changed", p + "gen:added")
        c = self.client
        self._add_job, self._update_job, self._delete_job = (
            c.register_script(_ADD_JOB),
            c.register_script(_UPDATE_JOB),
            c.register_script(_DELETE_JOB),
        )
        self._add_scenario, self._reset = c.register_script(_ADD_SCENARIO), c.register_script(_RESET)
        self._put_fault, self._delete_fault = c.register_script(_PUT_FAULT), c.register_script(_DELETE_FAULT)
        self._changes = _changes_for(clean, self.prefix, self.client, self.k_gen)
        self._reads = ReadCache(self._stamp)
        self._sources: dict[str, tuple[str, str, str]] = {}
        self.journal = BatchedJournal(RedisJournalLog(self, journal_max))
        self.ping()
        version = str(self.client.info("server").get("redis_version", "0"))
        if tuple(int(x) for x in version.split(".")[:2]) < (6, 2):
            raise StoreUnavailable(f"the store {self.url} runs Redis {version}; mockjobs needs 6.2 or later")

    def _job_key(self, job_id: str) -> str:
        return f"{self.prefix}job:{job_id}"

    def _stamp(self, slots: tuple[int, ...]) -> tuple[int, ...]:
        """The change counters of slots (no round trip while no change was published)."""
        return self._changes.stamp(slots)

    def pinned(self) -> AbstractContextManager[None]:
        """A block whose reads trust the change counters as first read in it (one look per request)."""
        return self._reads.pinned()

    @_guarded
    def ping(self) -> None:
        """Raise StoreUnavailable unless Redis answers."""
        self.client.ping()

    def close(self) -> None:
        """Let go of this process's connections."""
        self.client.connection_pool.disconnect()

    # ------------------------------------------------------------------ jobs

    def _job_args(self, job: Job) -> list[Any]:
        doc = job_doc(job)
        for key in ("seq", "rev", "start_ms", "cancel_at"):
            doc.pop(key)
        return [job.job_id, compact(doc), job.start_ms, "" if job.cancel_at is None else repr(job.cancel_at)]

    @staticmethod
    def _job(fields: dict[str, str]) -> Job | None:
        if not fields or "doc" not in fields:
            return None
        doc = json.loads(fields["doc"])
        doc.update(
            seq=int(fields["seq"]),
            rev=int(fields["rev"]),
            start_ms=int(fields["start"]),
            cancel_at=float(fields["cancel"]) if fields.get("cancel") else None,
        )
        return job_from(doc)

    @_guarded
    @_changing
    def add_job(self, job: Job) -> Job:
        """Insert a new job; Conflict if its id is taken."""
        keys = [self._job_key(job.job_id), self.k_order, self.k_seq, self.k_gen[ADDED]]
        seq = int(self._add_job(keys=keys, args=self._job_args(job)))
        if seq == 0:
            raise Conflict(f"job {job.job_id} already exists")
        return replace(job, seq=seq, rev=0)

    @_guarded
    @_changing
    def seed_jobs(self, jobs: Iterable[Job]) -> None:
        """Insert the jobs whose ids are not taken yet (static jobs at start-up)."""
        pipe = self.client.pipeline(transaction=False)
        for job in jobs:
            keys = [self._job_key(job.job_id), self.k_order, self.k_seq, self.k_gen[ADDED]]
            self._add_job(keys=keys, args=self._job_args(job), client=pipe)
        pipe.execute()

    @_guarded
    def get_job(self, job_id: str) -> Job | None:
        """One job by id."""
        return self._reads.get(
            ("job", job_id), lambda: self._job(self.client.hgetall(self._job_key(job_id))), keep_none=False
        )

    @_guarded
    def jobs(self, offset: int = 0, limit: int | None = None) -> list[Job]:
        """Every job (or limit of them, after offset), in creation order."""
        ids = self.client.zrange(self.k_order, offset, -1 if limit is None else offset + limit - 1)
        pipe = self.client.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(self._job_key(job_id))
        return [j for j in (self._job(f) for f in pipe.execute()) if j is not None]

    @_guarded
    def job_ids(self) -> list[str]:
        """Every job id, in creation order."""
        return list(self._reads.get("job_ids", lambda: self.client.zrange(self.k_order, 0, -1), (CHANGED, ADDED)))

    @_guarded
    def count_jobs(self) -> int:
        """How many jobs there are."""
        return int(self.client.zcard(self.k_order))

    @_guarded
    @_changing
    def update_job(self, job: Job, *, start_ms: int | None = None, cancel_at: float | None = None) -> Job:
        """Move a job's start or cancel it, if nobody changed it since it was read (else Stale)."""
        new = moved(job, start_ms, cancel_at)
        args = [job.seq, job.rev, new.start_ms, "" if new.cancel_at is None else repr(new.cancel_at)]
        done = int(self._update_job(keys=[self._job_key(job.job_id), self.k_gen[CHANGED]], args=args))
        if done == -1:
            raise NotFound(f"no job {job.job_id}")
        if done == 0:
            raise Stale(f"job {job.job_id} changed meanwhile; try again")
        return new

    @_guarded
    @_changing
    def delete_job(self, job_id: str) -> bool:
        """Remove a job; False if there was none."""
        keys = [self._job_key(job_id), self.k_order, self.k_gen[CHANGED]]
        return int(self._delete_job(keys=keys, args=[job_id])) == 1

    # ------------------------------------------------------------------ scenarios

    @_guarded
    def put_source(self, version: str, name: str, file: str, text: str) -> None:
        """Keep a scenario text so any worker on any host can replay jobs bound to it."""
        self.client.hsetnx(self.k_src, version, compact([name, file, text]))

    @_guarded
    def get_source(self, version: str) -> tuple[str, str, str] | None:
        """(name, file, text) of a kept scenario version."""
        kept = self._sources.get(version)  # a version's text never changes
        if kept is None:
            raw = self.client.hget(self.k_src, version)
            if raw is None:
                return None
            name, file, text = json.loads(raw)
            kept = self._sources[version] = (name, file, text)
        return kept

    @_guarded
    @_changing
    def add_scenario(self, name: str, version: str) -> None:
        """Register a scenario added through the API; Conflict if the name is taken."""
        keys = [self.k_added, self.k_added_order, self.k_added_seq, self.k_gen[CHANGED]]
        if int(self._add_scenario(keys=keys, args=[name, version])) == 0:
            raise Conflict(f"scenario {name!r} already exists")

    @_guarded
    def added_scenarios(self) -> list[tuple[str, str]]:
        """(name, version) of the scenarios added through the API, oldest first."""
        return list(self._reads.get("added", self._read_added))

    def _read_added(self) -> list[tuple[str, str]]:
        names = self.client.zrange(self.k_added_order, 0, -1)
        versions = self.client.hmget(self.k_added, names) if names else []
        return [(n, v) for n, v in zip(names, versions, strict=True) if v is not None]

    # ------------------------------------------------------------------ clock and meta

    @_guarded
    def clock(self) -> ClockState:
        """The mock clock's state."""
        return self._reads.get("clock", lambda: self._parse_clock(self.client.get(self.k_clock)))

    @staticmethod
    def _parse_clock(raw: str | None) -> ClockState:
        return ClockState(*json.loads(raw)) if raw else ClockState()

    def set_clock(self, state: ClockState) -> None:
        """Replace the mock clock's state."""
        self.update_clock(lambda _: state)

    @_guarded
    @_changing
    def update_clock(self, change: Callable[[ClockState], ClockState]) -> ClockState:
        """Apply change to the clock's state atomically (retried while another host changes it)."""
        result: list[ClockState] = []

        def apply(pipe: redis.client.Pipeline) -> None:
            state = change(self._parse_clock(pipe.get(self.k_clock)))
            pipe.multi()
            pipe.set(self.k_clock, json.dumps([state.offset_ms, state.frozen_at]))
            pipe.incr(self.k_gen[CHANGED])
            pipe.publish(self.k_gen[CHANGED], "1")
            result[:] = [state]

        self.client.transaction(apply, self.k_clock)
        return result[0]

    @_guarded
    def meta_default(self, key: str, value: str) -> str:
        """The value kept under key, storing value first if there is none."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hsetnx(self.k_meta, key, value)
        pipe.hget(self.k_meta, key)
        return str(pipe.execute()[1])

    # ------------------------------------------------------------------ faults and counters

    @_guarded
    def incr(self, key: str) -> int:
        """Atomically add 1 to the shared counter key (created at 0) and return the new value."""
        return int(self.client.hincrby(self.k_counters, key, 1))

    @_guarded
    def clear_counters(self) -> None:
        """Drop every counter (reset)."""
        self.client.delete(self.k_counters)

    @_guarded
    @_changing
    def put_fault(self, fault_id: str, doc: dict[str, Any]) -> None:
        """Store (or replace) one fault, a JSON-able mapping, keeping creation order."""
        keys = [self.k_faults, self.k_fault_order, self.k_fault_seq, self.k_gen[CHANGED]]
        self._put_fault(keys=keys, args=[fault_id, compact(doc)])

    @_guarded
    def faults(self) -> list[dict[str, Any]]:
        """Every stored fault, in creation order (cached until something changes)."""
        return [json.loads(d) for d in self._reads.get("faults", self._read_faults)]

    def _read_faults(self) -> list[str]:
        ids = self.client.zrange(self.k_fault_order, 0, -1)
        return [d for d in (self.client.hmget(self.k_faults, ids) if ids else []) if d is not None]

    @_guarded
    @_changing
    def delete_fault(self, fault_id: str) -> bool:
        """Remove one fault; False if there was none."""
        keys = [self.k_faults, self.k_fault_order, self.k_gen[CHANGED]]
        return int(self._delete_fault(keys=keys, args=[fault_id])) == 1

    @_guarded
    @_changing
    def clear_faults(self) -> None:
        """Remove every fault (reset)."""
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.k_faults, self.k_fault_order)
        pipe.incr(self.k_gen[CHANGED])
        pipe.publish(self.k_gen[CHANGED], "1")
        pipe.execute()

    # ------------------------------------------------------------------ resources (issue 13)
    # A job's resources are derived from it and its scenario; only a removal (an operation with
    # `removes: true`) is stored, in one hash: resource key -> mock ms. reset clears it.

    @_guarded
    @_changing
    def remove_resource(self, key: str, at_ms: int) -> bool:
        """Mark a resource removed at mock time at_ms; False if it already was (by any worker on any host)."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hsetnx(self.k_removed, key, str(at_ms))
        pipe.incr(self.k_gen[CHANGED])
        pipe.publish(self.k_gen[CHANGED], "1")
        return bool(pipe.execute()[0])

    @_guarded
    def removed_resources(self) -> dict[str, int]:
        """key -> mock time of removal, of every removed resource (cached until something changes)."""
        return dict(self._reads.get("removed_resources", self._read_removed))

    def _read_removed(self) -> list[tuple[str, int]]:
        return [(k, int(v)) for k, v in self.client.hgetall(self.k_removed).items()]

    # ------------------------------------------------------------------ servers

    @_guarded
    def heartbeat(self, server_id: str, info: dict[str, Any], now_s: float) -> None:
        """Say that server_id (described by info) is attached and alive at now_s."""
        self.client.hset(self.k_servers, server_id, compact({**info, "lastSeen": now_s}))

    @_guarded
    def servers(self, now_s: float, ttl_s: float = SERVER_TTL_S) -> list[dict[str, Any]]:
        """The servers heard of within ttl_s seconds before now_s (older ones are removed)."""
        out, gone = [], []
        for server_id, raw in sorted(self.client.hgetall(self.k_servers).items()):
            info = json.loads(raw)
            (out if info["lastSeen"] >= now_s - ttl_s else gone).append(info)
            if info["lastSeen"] < now_s - 10 * ttl_s:
                self.client.hdel(self.k_servers, server_id)
        return out

    @_guarded
    def forget_server(self, server_id: str) -> None:
        """Remove a server that leaves."""
        self.client.hdel(self.k_servers, server_id)

    # ------------------------------------------------------------------ reset

    @_guarded
    @_changing
    def reset(self, static_jobs: Iterable[Job]) -> None:
        """Drop every job and added scenario, put the static jobs back, real clock."""
        keys = [self.k_order, self.k_added, self.k_added_order, self.k_clock, *self.k_gen]
        self.client.delete(self.k_removed)  # resources removed by operations (issue 13); _reset bumps the counters
        self._reset(keys=keys, args=[self.prefix])
        self.seed_jobs(static_jobs)


class RedisJournalLog:
    """The request journal as a capped stream, with a copy per job trimmed to the same window, written in batches.

    The stream keeps entries in the order their batches arrived (MAXLEN drops the first to
    arrive); reads give them in the order they were recorded (each carries its time, `t`).
    """

    def __init__(self, store: RedisStore, limit: int) -> None:
        self.store = store
        self.url = store.url
        self.limit = max(1, int(limit))
        p = store.prefix
        self.k_stream, self.k_count, self.k_jobs = p + "journal", p + "journal:added", p + "journal:jobs"
        self.k_marks = p + "journal:marks"
        self._append = store.client.register_script(_APPEND)
        self._clear = store.client.register_script(_CLEAR_JOURNAL)
        # MAXLEN ~ trims whole stream nodes (about 100 entries): cheap, but only worth it for big bounds
        self._approx = "1" if self.limit >= 10_000 else "0"

    def _job_stream(self, job_id: str) -> str:
        return f"{self.k_stream}:job:{job_id}"

    @_guarded
    def append(self, rows: list[Row], mark: str | None) -> None:
        """Write rows and count a batch on mark in one script call."""
        keys = [self.k_stream, self.k_count, self.k_jobs, self.k_marks]
        index: dict[str, int] = {}
        args: list[Any] = [self.limit, self._approx, mark or "", int(time.time() * 1000)]
        for at, job_id, entry in rows:
            k = 0
            if job_id:
                key = self._job_stream(job_id)
                k = index.get(key, 0)
                if not k:
                    keys.append(key)
                    k = index[key] = len(keys)
            args += [at, entry, k]
        self._append(keys=keys, args=args)

    @_guarded
    def mark(self, mark: str, since_ms: int) -> None:
        """Leave a mark for held entries."""
        self.store.client.hset(self.k_marks, mark, f"{since_ms}:0")

    @_guarded
    def marks(self) -> dict[str, tuple[int, int]]:
        """Every mark: (when it was last written, batches counted on it)."""
        out = {}
        for m, value in self.store.client.hgetall(self.k_marks).items():
            since, _, batches = value.partition(":")
            out[m] = (int(since), int(batches or 0))
        return out

    @_guarded
    def unmark(self, marks: Iterable[str]) -> None:
        """Remove marks."""
        gone = list(marks)
        if gone:
            self.store.client.hdel(self.k_marks, *gone)

    @_guarded
    def entries(self, job_id: str | None = None) -> list[dict[str, Any]]:
        """Every kept request (of one job, from its own stream, if given), in the order they were recorded."""
        client = self.store.client
        if job_id is None:
            found = client.xrange(self.k_stream)
        else:
            first = client.xrange(self.k_stream, count=1)
            found = client.xrange(self._job_stream(job_id), min=first[0][0]) if first else []
        found.sort(key=lambda item: int(item[1].get("t", 0)))
        return [json.loads(fields["e"]) for _, fields in found]

    @_guarded
    def clear(self) -> None:
        """Forget every request."""
        self._clear(keys=[self.k_stream, self.k_jobs])

    @_guarded
    def stats(self) -> dict[str, int]:
        """Entries kept, the bound, and how many were dropped to keep it."""
        pipe = self.store.client.pipeline(transaction=True)
        pipe.xlen(self.k_stream)
        pipe.get(self.k_count)
        kept, added = pipe.execute()
        return {"entries": int(kept), "max": self.limit, "dropped": max(0, int(added or 0) - int(kept))}
