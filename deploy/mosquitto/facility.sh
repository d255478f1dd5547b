#!/usr/bin/env bash
# Broker users of a SECCM facility: one user per instrument and service, operators with the instruments they may
# command, read-only displays. Each command writes or removes the files of one instrument or one person and then
# assembles the two files mosquitto reads (deploy/mosquitto/acl, deploy/mosquitto/passwd); nobody else's password
# or grant changes.
#
#   facility.sh add-display NAME             read-only across instruments (wall displays, Grafana, the broker's
#                                            health check, which logs in as "display")
#   facility.sh add-instrument ID            users stage@ID potentiostat@ID scan@ID diffusion@ID glovebox@ID,
#                                            confined to seccm/ID/...; their passwords in deploy/secrets/ID/mqtt_<service>;
#                                            deploy/instruments/ID/{env,docker-compose.yml} for its containers
#   facility.sh remove-instrument ID         revokes them (and ID from every operator's grant)
#   facility.sh add-operator NAME ID [ID...] an operator who may command (and read) the instruments listed
#   facility.sh add-operator NAME --all      a facility operator: every instrument, present and future
#   facility.sh grant NAME ID [ID...]        let an operator command more instruments (password unchanged)
#   facility.sh revoke NAME ID [ID...]       and fewer
#   facility.sh remove-user NAME             an operator or display
#   facility.sh list
#
# Passwords are random (24 bytes from /dev/urandom, hex), hashed by mosquitto_passwd (Debian: apt-get install
# mosquitto), never passed on a command line nor printed. An operator's password is left in deploy/secrets/users/NAME
# (mode 600) for the administrator to hand over; a display's too (644: the broker's health check reads it). To renew a
# password: remove-user and add again (remove-instrument and add-instrument for a service's). Everything written is
# git-ignored.
# After a change: docker compose kill -s HUP mosquitto (mosquitto re-reads both files and disconnects users that
# were removed).
#
# SECCM_DEPLOY_DIR (default: this repository's deploy/) is where the files go; the ACL templates are read from
# acl.d/ beside this script.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
deploy="${SECCM_DEPLOY_DIR:-$(cd "$here/.." && pwd)}"
templates="$here/acl.d"
state="$deploy/mosquitto/facility"
secrets="$deploy/secrets"
services=(stage potentiostat scan diffusion glovebox)

die() {
  echo "facility.sh: $*" >&2
  exit 2
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Instrument ids are topic segments (shared/Contracts/Topics/Topic.cs): 1-64 letters, digits, '-', '_', '.'.
check_id() {
  [[ "$1" =~ ^[A-Za-z0-9._-]{1,64}$ ]] || die "$2 '$1' is not valid: use 1-64 letters, digits, '-', '_' or '.'; nothing was written."
}

random_password() {
  od -An -tx1 -N24 /dev/urandom | tr -d ' \n'
}

# hash_users OUT USER=PASSWORDFILE...: a password file fragment with one hashed line per user.
hash_users() {
  local out="$1"
  shift
  local tmp
  tmp="$(mktemp "$out.XXXXXX")"
  local pair
  for pair in "$@"; do
    # Plain "user:password" lines, hashed in place by mosquitto_passwd -U: the secret stays off the command line.
    printf '%s:%s\n' "${pair%%=*}" "$(head -n1 "${pair#*=}")" >> "$tmp"
  done
  if ! mosquitto_passwd -U "$tmp" >/dev/null; then
    rm -f "$tmp"
    die "mosquitto_passwd failed; nothing was written."
  fi
  mv "$tmp" "$out"
}

write_secret() {
  local file="$1" mode="$2"
  mkdir -p "$(dirname "$file")"
  local tmp
  tmp="$(mktemp "$file.XXXXXX")"
  random_password > "$tmp"
  echo >> "$tmp"
  chmod "$mode" "$tmp"
  mv "$tmp" "$file"
}

# The ACL template without its leading comment block, {instrument} replaced.
instrument_acl() {
  sed -e '1,/^$/d' -e "s/{instrument}/$1/g" "$templates/instrument.acl"
}

template_lines() {
  grep -v '^#' "$templates/$1" | sed -e '/^$/d' -e "s/{instrument}/$2/g"
}

assemble() {
  mkdir -p "$state"
  local acl="$deploy/mosquitto/acl" passwd="$deploy/mosquitto/passwd"
  local acl_tmp passwd_tmp
  acl_tmp="$(mktemp "$acl.XXXXXX")"
  passwd_tmp="$(mktemp "$passwd.XXXXXX")"
  {
    echo "# Written by deploy/mosquitto/facility.sh from acl.d/*.acl; do not edit (your edits are lost on the next change)."
    echo "# Rules: deploy/mosquitto/acl.d/instrument.acl. mosquitto denies whatever no line grants."
    local f id name grant
    for f in "$state"/instrument-*.id; do
      [ -e "$f" ] || continue
      id="$(cat "$f")"
      echo
      echo "# ---- instrument $id ----"
      instrument_acl "$id"
    done
    for f in "$state"/operator-*.grant; do
      [ -e "$f" ] || continue
      name="$(basename "$f" .grant)"
      name="${name#operator-}"
      echo
      if grep -qx '+' "$f"; then
        echo "# ---- facility operator $name: commands every instrument ----"
      else
        echo "# ---- operator $name: $(tr '\n' ' ' < "$f")----"
      fi
      echo "user $name"
      while read -r grant; do
        [ -n "$grant" ] && template_lines operator.acl "$grant"
      done < "$f"
    done
    for f in "$state"/display-*.passwd; do
      [ -e "$f" ] || continue
      name="$(basename "$f" .passwd)"
      name="${name#display-}"
      echo
      echo "# ---- display $name: reads every instrument, writes nothing ----"
      echo "user $name"
      template_lines display.acl ""
    done
  } > "$acl_tmp"
  cat /dev/null "$state"/*.passwd > "$passwd_tmp" 2>/dev/null || true
  # The broker in the container runs as uid 1883 and must read both; the hashes are salted (PBKDF2-SHA512).
  chmod 644 "$acl_tmp" "$passwd_tmp"
  mv "$acl_tmp" "$acl"
  mv "$passwd_tmp" "$passwd"
}

user_exists() {
  [ -e "$state/operator-$1.passwd" ] || [ -e "$state/display-$1.passwd" ]
}

add_instrument() {
  [ $# -eq 1 ] || usage
  local id="$1"
  check_id "$id" "instrument id"
  [ ! -e "$state/instrument-$id.id" ] || die "instrument '$id' exists already (remove-instrument $id first to renew its passwords); nothing was written."
  mkdir -p "$state" "$secrets/$id"
  local pairs=() service
  for service in "${services[@]}"; do
    # Read inside the service containers by their non-root user (uid 1654): the directory deploy/secrets is git-ignored.
    write_secret "$secrets/$id/mqtt_$service" 644
    pairs+=("$service@$id=$secrets/$id/mqtt_$service")
  done
  hash_users "$state/instrument-$id.passwd" "${pairs[@]}"
  printf '%s\n' "$id" > "$state/instrument-$id.id"
  write_compose_fragment "$id"
  assemble
  echo "facility.sh: instrument $id: users ${services[*]/%/@$id}; passwords in $secrets/$id/; containers: $deploy/instruments/$id/"
}

remove_instrument() {
  [ $# -eq 1 ] || usage
  local id="$1"
  check_id "$id" "instrument id"
  [ -e "$state/instrument-$id.id" ] || die "no instrument '$id' (facility.sh list); nothing was changed."
  rm -f "$state/instrument-$id.id" "$state/instrument-$id.passwd"
  rm -rf "${secrets:?}/$id" "${deploy:?}/instruments/$id"
  local f
  for f in "$state"/operator-*.grant; do
    [ -e "$f" ] || continue
    if grep -qxF "$id" "$f"; then
      grep -vxF "$id" "$f" > "$f.tmp" || true
      mv "$f.tmp" "$f"
    fi
  done
  assemble
  echo "facility.sh: instrument $id removed: its users, passwords, containers' files and operators' grants for it."
}

add_operator() {
  [ $# -ge 2 ] || usage
  local name="$1"
  shift
  check_id "$name" "user name"
  user_exists "$name" && die "user '$name' exists already (remove-user $name first); nothing was written."
  local grants=()
  if [ "$1" = "--all" ]; then
    [ $# -eq 1 ] || die "add-operator $name --all takes no instrument ids; nothing was written."
    grants=("+")
  else
    local id
    for id in "$@"; do
      check_id "$id" "instrument id"
      [ -e "$state/instrument-$id.id" ] || die "no instrument '$id' (add-instrument $id first); nothing was written."
      grants+=("$id")
    done
  fi
  mkdir -p "$state"
  write_secret "$secrets/users/$name" 600
  hash_users "$state/operator-$name.passwd" "$name=$secrets/users/$name"
  printf '%s\n' "${grants[@]}" > "$state/operator-$name.grant"
  assemble
  if [ "${grants[0]}" = "+" ]; then
    echo "facility.sh: facility operator $name (every instrument); password in $secrets/users/$name"
  else
    echo "facility.sh: operator $name for ${grants[*]}; password in $secrets/users/$name"
  fi
}

# grant/revoke NAME ID...: change an operator's instruments, keeping the password.
change_grant() {
  local how="$1"
  shift
  [ $# -ge 2 ] || usage
  local name="$1"
  shift
  check_id "$name" "user name"
  local file="$state/operator-$name.grant"
  [ -e "$file" ] || die "no operator '$name' (facility.sh list); nothing was changed."
  grep -qx '+' "$file" && die "$name is a facility operator (every instrument); remove-user and add-operator to narrow it; nothing was changed."
  local id
  for id in "$@"; do
    check_id "$id" "instrument id"
    if [ "$how" = grant ]; then
      [ -e "$state/instrument-$id.id" ] || die "no instrument '$id' (add-instrument $id first); nothing was changed."
    else
      grep -qxF "$id" "$file" || die "$name may not command '$id' anyway; nothing was changed."
    fi
  done
  local tmp
  tmp="$(mktemp "$file.XXXXXX")"
  if [ "$how" = grant ]; then
    { cat "$file"; printf '%s\n' "$@"; } | sort -u > "$tmp"
  else
    grep -vxF -f <(printf '%s\n' "$@") "$file" > "$tmp" || true
  fi
  mv "$tmp" "$file"
  assemble
  echo "facility.sh: operator $name may command: $(tr '\n' ' ' < "$file")"
}

add_display() {
  [ $# -eq 1 ] || usage
  local name="$1"
  check_id "$name" "user name"
  user_exists "$name" && die "user '$name' exists already (remove-user $name first); nothing was written."
  mkdir -p "$state"
  # Mode 644: the broker container's health check reads the display password (docker-compose.yml).
  write_secret "$secrets/users/$name" 644
  hash_users "$state/display-$name.passwd" "$name=$secrets/users/$name"
  assemble
  echo "facility.sh: display $name (reads every instrument); password in $secrets/users/$name"
}

remove_user() {
  [ $# -eq 1 ] || usage
  local name="$1"
  check_id "$name" "user name"
  user_exists "$name" || die "no operator or display '$name' (facility.sh list); nothing was changed."
  rm -f "$state/operator-$name.passwd" "$state/operator-$name.grant" "$state/display-$name.passwd" "$secrets/users/$name"
  assemble
  echo "facility.sh: user $name removed."
}

list() {
  local f
  for f in "$state"/instrument-*.id; do
    [ -e "$f" ] && echo "instrument $(cat "$f")"
  done
  for f in "$state"/operator-*.grant; do
    [ -e "$f" ] || continue
    local name
    name="$(basename "$f" .grant)"
    echo "operator ${name#operator-}: $(sed 's/^+$/every instrument/' "$f" | tr '\n' ' ')"
  done
  for f in "$state"/display-*.passwd; do
    [ -e "$f" ] || continue
    local name
    name="$(basename "$f" .passwd)"
    echo "display ${name#display-}"
  done
}

# deploy/instruments/ID/env: the .env lines of this instrument's containers on their own PC (docker-compose.yml reads
# SECCM_INSTRUMENT for the user names and deploy/secrets/ID/); deploy/instruments/ID/docker-compose.yml: its five
# containers beside another instrument's on the same host (deploy/docker-compose.instrument.yml with ID filled in).
write_compose_fragment() {
  local id="$1" dir="$deploy/instruments/$1"
  mkdir -p "$dir"
  {
    echo "# Instrument $id (written by deploy/mosquitto/facility.sh add-instrument $id). On the instrument's own PC put these"
    echo "# lines into .env, copy deploy/secrets/$id/ there, and point SECCM__MQTT__HOST/SECCM__STORAGE__URL at the facility."
    echo "SECCM_INSTRUMENT=$id"
  } > "$dir/env"
  local key
  key="$(printf '%s' "$id" | tr '.-' '__')"
  sed -e "s/{instrument}/$id/g" -e "s/{instrument_key}/$key/g" "$here/../docker-compose.instrument.yml" > "$dir/docker-compose.yml"
}

command -v mosquitto_passwd >/dev/null 2>&1 || die "mosquitto_passwd not found (Debian/Ubuntu: apt-get install mosquitto)."
[ $# -ge 1 ] || usage
verb="$1"
shift
umask 077
case "$verb" in
  add-instrument) add_instrument "$@" ;;
  remove-instrument) remove_instrument "$@" ;;
  add-operator) add_operator "$@" ;;
  add-display) add_display "$@" ;;
  grant) change_grant grant "$@" ;;
  revoke) change_grant revoke "$@" ;;
  remove-user) remove_user "$@" ;;
  list) list "$@" ;;
  -h | --help | help) usage ;;
  *) die "unknown command '$verb' (add-instrument, remove-instrument, add-operator, grant, revoke, add-display, remove-user, list)." ;;
esac
