# bash completion for memtrace(1): options, their values (files, users,
# process ids, sizes and times), and after the command, the command's own.
_memtrace()
{
	local cur prev words cword i
	_init_completion || return

	# Past the command (the first word that is not an option or an option's
	# value, or whatever follows --), complete as for that command.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--) _command_offset $((i + 1)); return ;;
		-o | -p | -u | -c | --json | --csv | --interval | --summary-csv | --tasks-csv | \
			--runs | --warmup | --top | --max-tasks | --max-procs | --user | --duration | \
			--ringbuf-size | --format | --output | --pid | --compare | --perfetto | --prom | \
			--push | --label | --export-bmf | --export-github-benchmark | --bench-name | \
			--limit | --limit-signal)
			((i++)) ;;
		-*) ;;
		*) _command_offset $i; return ;;
		esac
	done

	case $prev in
	-o | --output | --json | --csv | --summary-csv | --tasks-csv | --perfetto | --prom | \
		--export-bmf | --export-github-benchmark)
		_filedir
		return ;;
	-u | --user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return ;;
	-p | --pid)
		_pids
		return ;;
	-c | --compare)
		COMPREPLY=($(compgen -c -- "$cur"))
		return ;;
	--interval)
		COMPREPLY=($(compgen -W '10ms 100ms 1s' -- "$cur"))
		return ;;
	--duration)
		COMPREPLY=($(compgen -W '10s 1m 10m 1h' -- "$cur"))
		return ;;
	--ringbuf-size)
		COMPREPLY=($(compgen -W '64K 1M 8M 64M 256M' -- "$cur"))
		return ;;
	--format)
		COMPREPLY=($(compgen -W "'%M\ KiB\ %e\ s' '%R\ %T\ %K'" -- "$cur"))
		return ;;
	--runs | --warmup | --top | --max-tasks | --max-procs | --push | --label | --bench-name)
		return ;;
	--limit)
		COMPREPLY=($(compgen -W '512M 1G 2G,total' -- "$cur"))
		return ;;
	--limit-signal)
		COMPREPLY=($(compgen -W 'KILL TERM INT USR1' -- "$cur"))
		return ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '-o --output -p --pid -c --compare --json --csv
			--interval --summary-csv --tasks --tasks-csv --runs --warmup --top -v
			--verbose -q --quiet --format --strict --max-tasks --max-procs -u --user
			--as-root --duration --ringbuf-size --perfetto --prom --push --label
			--export-bmf --export-github-benchmark --bench-name --wait --cgroup --limit
			--limit-signal --check-kernel -h --help -V --version
			--' -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -c -- "$cur"))
} &&
	complete -F _memtrace memtrace
