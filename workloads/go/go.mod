module memtrace.local/workloads/go

go 1.19
