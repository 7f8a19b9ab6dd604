#!/usr/bin/env bash
# Container smoke test, run by .ci/run once the image is built (`docker build -t reelforge .`):
#  1. the README's one-off render: `docker run --rm -v <volume>:/data reelforge video 12 "..."` into a new
#     named volume (Docker, not Podman: Docker hands a new volume the image's /data owner), then the MP4
#     checked with ffprobe from inside the volume;
#  2. compose.yaml (plus test/container/compose.ci.yaml) brought up against the fake Telegram Bot API
#     served on the Docker bridge's gateway: one /video request to the bot, delivered by a worker
#     through Redis (the upload must come from a worker container's address), then `down -v`.
# Everything it starts is removed on exit. DOCKER names the engine command (default: docker).
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-docker}
IMAGE=reelforge
run_id="smoke-$$-$(date +%s)"
VOLUME="reelforge-$run_id"
PROJECT="reelforge-$run_id"
work=$(mktemp -d)
fake_pid=""
compose_up=""

if $DOCKER compose version >/dev/null 2>&1; then
  compose_cmd=("$DOCKER" compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose_cmd=(docker-compose)
else
  echo "container-smoke: neither 'docker compose' nor 'docker-compose' is installed" >&2
  exit 1
fi
compose() {
  REELFORGE_ENV_FILE="$work/env" REELFORGE_METRICS_PORT="${metrics_port:-9464}" \
    "${compose_cmd[@]}" -p "$PROJECT" -f compose.yaml -f test/container/compose.ci.yaml "$@"
}
say() { printf 'container-smoke: %s\n' "$*" >&2; }

cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "$compose_up" ]; then
    say "failed; the stack's last log lines:"
    compose logs --no-color --tail 60 >&2 || true
  fi
  if [ -n "$fake_pid" ] && kill -0 "$fake_pid" 2>/dev/null; then kill "$fake_pid" 2>/dev/null || true; fi
  if [ -n "$fake_pid" ]; then wait "$fake_pid" 2>/dev/null || true; fi
  [ "$rc" -ne 0 ] && [ -s "$work/fake.log" ] && cat "$work/fake.log" >&2
  if [ -n "$compose_up" ]; then compose down -v --remove-orphans --timeout 20 >/dev/null 2>&1 || true; fi
  $DOCKER volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs node with a small script on a JSON document (stdin) and prints the result.
json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);console.log($1)})"; }

# ---------------------------------------------------------------- 1. docker run into a named volume
t0=$SECONDS
say "1. docker run --rm -v $VOLUME:/data $IMAGE video 12 \"The history of tea\""
out=$($DOCKER run --rm -v "$VOLUME:/data" "$IMAGE" video 12 "The history of tea" 2>"$work/video.err") || {
  tail -20 "$work/video.err" >&2
  exit 1
}
mp4=$(printf '%s\n' "$out" | tail -1)
case "$mp4" in /data/out/*.mp4) ;; *) say "expected the MP4's path on stdout, got: $out"; exit 1 ;; esac
probe=$($DOCKER run --rm -v "$VOLUME:/data" --entrypoint ffprobe "$IMAGE" -v error \
  -show_entries stream=codec_name,width,height:format=duration -of json "$mp4")
owner=$($DOCKER run --rm -v "$VOLUME:/data" --entrypoint stat "$IMAGE" -c %U "$mp4")
check=$(printf '%s' "$probe" | json "(() => {
  const v = j.streams.find((s) => s.codec_name === 'h264'), a = j.streams.find((s) => s.codec_name === 'aac');
  const d = Number(j.format.duration);
  return v && a && v.width === 1080 && v.height === 1920 && d > 8 && d < 20 ? 'ok ' + d.toFixed(2) + ' s 1080x1920 h264+aac' : 'bad ' + JSON.stringify(j);
})()")
case "$check" in ok*) ;; *) say "the video is not what was asked: $check"; exit 1 ;; esac
[ "$owner" = node ] || { say "$mp4 belongs to $owner, not node"; exit 1; }
say "1. ok in $((SECONDS - t0)) s: $mp4, ${check#ok }, owned by $owner"

# ---------------------------------------------------------------- 2. compose stack through Redis
t1=$SECONDS
# The host's address on Docker's default bridge (docker0): containers on any bridge network reach it.
bridge=$($DOCKER network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}')
gateway=$(ip -4 -o addr show dev "$bridge" | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
[ -n "$gateway" ] || { say "no IPv4 address on Docker's bridge interface '$bridge'"; exit 1; }
metrics_port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
node bin/run-ts.mjs test/container/serve-fake-telegram.ts --host "$gateway" --ready "$work/ready.json" \
  >"$work/result.json" 2>"$work/fake.log" &
fake_pid=$!
for _ in $(seq 100); do [ -s "$work/ready.json" ] && break; kill -0 "$fake_pid" 2>/dev/null || break; sleep 0.2; done
[ -s "$work/ready.json" ] || { say "the fake Telegram server did not start"; exit 1; }
{
  printf 'TELEGRAM_BOT_TOKEN=%s\n' "$(json 'j.token' <"$work/ready.json")"
  printf 'TELEGRAM_API_ROOT=%s\n' "$(json 'j.apiRoot' <"$work/ready.json")"
} >"$work/env"
say "2. compose up (project $PROJECT) against the fake Bot API at $(json 'j.apiRoot' <"$work/ready.json")"
compose_up=1
compose up -d >"$work/compose-up.log" 2>&1 || { cat "$work/compose-up.log" >&2; exit 1; }
say "2. stack up in $((SECONDS - t1)) s; waiting for the video"
if ! wait "$fake_pid"; then fake_pid=""; say "no video arrived"; exit 1; fi
fake_pid=""
cat "$work/fake.log" >&2
result=$(cat "$work/result.json")
worker_ids=$(compose ps -q worker)
[ "$(printf '%s\n' "$worker_ids" | wc -l)" -eq 2 ] || { say "expected two worker containers, found: $worker_ids"; exit 1; }
# shellcheck disable=SC2086
worker_ips=" $($DOCKER inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $worker_ids | tr '\n' ' ')"
bot_ip=$($DOCKER inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(compose ps -q bot)")
uploaded_from=$(printf '%s' "$result" | json 'j.uploadedFrom')
say "2. result: $result"
say "2. bot $bot_ip, workers$worker_ips; the video came from $uploaded_from"
case " $worker_ips " in *" $uploaded_from "*) ;; *) say "the video was not uploaded by a worker"; exit 1 ;; esac
printf '%s' "$result" | json "j.codecs.join('+') === 'aac+h264' && j.seconds > 8 && j.seconds < 20 ? '' : process.exit(1)" >/dev/null ||
  { say "the delivered video is not a 10 s H.264/AAC MP4"; exit 1; }

# Health: every container's HEALTHCHECK (/healthz on METRICS_PORT) and the bot's /metrics through the
# published port. Checked once the build has the metrics server.
if $DOCKER run --rm --entrypoint grep "$IMAGE" -rqs /healthz /app/dist; then
  for id in $(compose ps -q bot) $worker_ids; do
    status=""
    for _ in $(seq 60); do
      status=$($DOCKER inspect -f '{{.State.Health.Status}}' "$id")
      [ "$status" = healthy ] && break
      sleep 2
    done
    [ "$status" = healthy ] || { say "container $id is $status, not healthy"; $DOCKER inspect -f '{{json .State.Health}}' "$id" >&2; exit 1; }
  done
  series=$(node -e "fetch('http://127.0.0.1:$metrics_port/metrics').then(async (r) => { if (!r.ok) throw new Error('HTTP ' + r.status); console.log((await r.text()).split('\n').filter((l) => l.startsWith('reelforge_')).length) }).catch((e) => { console.error(e.message); process.exit(1) })") ||
    { say "no /metrics on the bot's published port $metrics_port"; exit 1; }
  [ "$series" -gt 0 ] || { say "the bot's /metrics has no reelforge_ series"; exit 1; }
  say "2. bot and workers healthy; the bot's /metrics has $series reelforge_ samples"
else
  say "2. this build has no metrics server (/healthz): health not checked"
fi
compose down -v --remove-orphans --timeout 20 >/dev/null 2>&1
compose_up=""
say "2. ok in $((SECONDS - t1)) s (stack down, volumes removed)"
say "all ok in $((SECONDS - t0)) s"
