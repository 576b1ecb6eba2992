#!/usr/bin/env bash
# Where the CPU went over a window: the whole machine's busy time, and every process's CPU time grouped by program, as a
# markdown table. Run it around a benchmark to see which part of the graph (services, servers, dashboard, load
# generator) was busy.
#
#   bench/cpu-share.sh begin STATE   opens the window (writes STATE)
#   bench/cpu-share.sh end STATE     closes it and prints what was counted
#   bench/cpu-share.sh SECONDS       both, SECONDS apart
#
# The headline is the machine's own count (/proc/stat: user + nice + system + irq + softirq + steal, nothing taken
# off), so nothing that ran in the window can be missed, however short-lived. The split by program cannot see a process
# that started and ended inside the window; its time is found where the kernel adds it when it ends, in the cutime and
# cstime of the parent that waits for it (the postmaster for its backends, run.sh for wrk and psql), less what it had
# used before the window began.
set -euo pipefail
ticks=$(getconf CLK_TCK)

snapshot_processes() { # proc pid starttime ppid name own-ticks children-ticks, for every process but this one
  local stat line pid rest name args
  for stat in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$stat" || continue
    pid=${line%% *}
    [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
    # The name is between the first "(" and the last ")": a program may put either in its name.
    rest=${line##*) }; name=${line#*(}; name=${name%)*}
    # The services run as `dotnet <assembly>` and the scripts as `bash <script>`: name them by what they run. Builtins
    # only, no forks: the longer this loop takes, the further each process's reading is from the machine's.
    case "$name" in
      dotnet|bash|sh)
        mapfile -d '' -t args 2>/dev/null <"/proc/$pid/cmdline" || args=()
        case "$name:${args[1]:-}" in
          dotnet:*.dll) name=${args[1]##*/}; name=${name%.dll} ;;
          bash:*.sh|sh:*.sh) name=${args[1]##*/} ;;
        esac ;;
    esac
    set -- $rest
    # Fields 4 (ppid), 14-17 (utime, stime, cutime, cstime) and 22 (starttime, which tells a reused pid apart).
    echo "proc $pid ${20} $2 ${name// /_} $(( ${12} + ${13} )) $(( ${14} + ${15} ))"
  done
}

snapshot_machine() { # machine uptime-seconds user nice system idle iowait irq softirq steal
  local cpu user nice system idle iowait irq softirq steal uptime
  read -r cpu user nice system idle iowait irq softirq steal _ </proc/stat
  read -r uptime _ </proc/uptime
  echo "machine $uptime $user $nice $system $idle $iowait $irq $softirq $steal"
}

# The machine is read just before and just after the processes, and the window's edge is the mean of the two: reading
# every process takes a moment, and that way both counts end at the same instant on average.
snapshot() { snapshot_machine; snapshot_processes; snapshot_machine; }

case "${1:?usage: bench/cpu-share.sh begin STATE | end STATE | SECONDS}" in
  begin)
    state=${2:?usage: bench/cpu-share.sh begin STATE}
    # This script ends inside the window: what it used until now is written as a process line of its own, so that it
    # comes off its parent's exited children like any other.
    { snapshot
      read -r line <"/proc/$BASHPID/stat"; rest=${line##*) }; set -- $rest
      echo "proc $BASHPID ${20} $2 cpu-share.sh $(( ${12} + ${13} )) $(( ${14} + ${15} ))"
    } >"$state"
    ;;
  end)
    state=${2:?usage: bench/cpu-share.sh end STATE}
    after=$(snapshot)
    echo "$after" | awk -v hz="$ticks" -v cores="$(nproc)" '
      function ms(t) { return t * 1000 / hz }
      FNR == NR {
        if ($1 == "machine") { for (i = 2; i <= 10; i++) m0[i] += $i / 2 }
        else if ($1 == "proc") { start0[$2] = $3; ppid0[$2] = $4; own0[$2] = $6; children0[$2] = $7 }
        next
      }
      $1 == "machine" { for (i = 2; i <= 10; i++) m1[i] += $i / 2; next }
      $1 == "proc" { start1[$2] = $3; name1[$2] = $5; own1[$2] = $6; children1[$2] = $7 }
      END {
        wall = (m1[2] - m0[2]) * 1000
        usernice = ms(m1[3] - m0[3] + m1[4] - m0[4]); sysms = ms(m1[5] - m0[5])
        irq = ms(m1[8] - m0[8] + m1[9] - m0[9]); steal = ms(m1[10] - m0[10])
        busy = usernice + sysms + irq + steal
        for (p in start1) {
          if ((p in start0) && start0[p] == start1[p]) {
            own[name1[p]] += ms(own1[p] - own0[p]); children[name1[p]] += ms(children1[p] - children0[p])
          } else { # started inside the window: all of its time is in it
            own[name1[p]] += ms(own1[p]); children[name1[p]] += ms(children1[p])
          }
        }
        for (p in start0) {
          if ((p in start1) && start1[p] == start0[p]) continue
          # Ended inside the window: its whole time went to the nearest ancestor still there (or init, which adopts
          # orphans), so what it had used before the window began comes off that ancestor.
          a = ppid0[p]
          while ((a in start0) && !((a in start1) && start1[a] == start0[a])) a = ppid0[a]
          if (!((a in start1) && (a in start0) && start1[a] == start0[a])) a = 1
          if (a in name1) children[name1[a]] -= ms(own0[p] + children0[p])
        }
        for (n in own) { total[n] = own[n] + children[n]; all += total[n]; allown += own[n]; allchildren += children[n] }
        printf "Window: %.1f s of wall clock. Whole machine busy (/proc/stat user + nice + system + irq + softirq + steal, %d cores): **%.0f ms** (%.0f%% of the %.0f ms the cores had): user + nice %.0f, system %.0f, irq + softirq %.0f, steal %.0f.\n\n", \
          wall / 1000, cores, busy, 100 * busy / (wall * cores), wall * cores, usernice, sysms, irq, steal
        print "| program | CPU ms | own | exited children | share of " cores " cores |"
        print "|---|---|---|---|---|"
        printf "| (machine busy) | %.0f | | | %.0f%% |\n", busy, 100 * busy / (wall * cores)
        printf "| (all processes) | %.0f | %.0f | %.0f | %.0f%% |\n", all, allown, allchildren, 100 * all / (wall * cores)
        fflush()
        for (n in total) {
          if (total[n] >= 0.005 * busy || total[n] <= -0.005 * busy)
            printf "| %s | %.0f | %.0f | %.0f | %.0f%% |\n", n, total[n], own[n], children[n], 100 * total[n] / (wall * cores) | "sort -t\"|\" -k3 -rn"
          else { small++; smalltotal += total[n]; smallown += own[n]; smallchildren += children[n] }
        }
        close("sort -t\"|\" -k3 -rn")
        printf "| (%d smaller programs, each under 0.5%%) | %.0f | %.0f | %.0f | %.0f%% |\n", small, smalltotal, smallown, smallchildren, 100 * smalltotal / (wall * cores)
        printf "| other | %.0f | | | %.0f%% |\n", busy - all, 100 * (busy - all) / (wall * cores)
        print ""
        print "\"own\" is utime + stime over the window (all of it for a process started inside the window); \"exited children\"" \
          " is cutime + cstime gained over the window: processes that ended inside it, counted in the parent that waited for" \
          " them (the postmaster for its backends, run.sh for wrk, psql and its other tools), less what they had used before" \
          " it began. \"other\" is machine busy minus every process: interrupt and steal time no process is charged with," \
          " processes whose parent ended before them, and the moment it takes to read every process (the machine is read before" \
          " and after that, and the mean taken)."
      }' "$state" -
    ;;
  *[!0-9]*) echo "usage: bench/cpu-share.sh begin STATE | end STATE | SECONDS" >&2; exit 2 ;;
  *)
    state=$(mktemp)
    "$0" begin "$state"
    sleep "$1"
    "$0" end "$state"
    rm -f "$state"
    ;;
esac
