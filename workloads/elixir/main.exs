# elixir: the article's form, a script run as `elixir main.exs N [SECONDS]`.
# Elixir compiles it (and sleep_tasks.ex beside it) in memory when it starts,
# so the run holds the Elixir compiler, as the article's did; workload
# elixir-beam runs the same module precompiled.
Code.require_file("sleep_tasks.ex", __DIR__)
SleepTasks.main(System.argv())
