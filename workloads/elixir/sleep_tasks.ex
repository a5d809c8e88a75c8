defmodule SleepTasks do
  @moduledoc """
  elixir: one BEAM process per task (`Task.async/1`), each calling
  `:timer.sleep/1` for SECONDS; then `Task.await_many/2` with no timeout.

  usage, as the article ran it (workload elixir: main.exs, compiled in
  memory when it starts, with this file):
      elixir [--erl "+P LIMIT"] main.exs N [SECONDS]
  or precompiled by elixirc (workload elixir-beam: no compiler loaded):
      elixir [--erl "+P LIMIT"] -pa BUILD/elixir-beam -e "SleepTasks.main(System.argv())" -- N [SECONDS]
  (SECONDS defaults to 10)
  """

  @name "elixir"
  @max_tasks 1_000_000_000
  @max_seconds 86_400

  def main(argv) do
    {n, secs} = parse_args(argv)
    # Read by every task rather than captured: the article's
    # fn -> :timer.sleep(10000) end has no free variable.
    :persistent_term.put({__MODULE__, :ms}, secs * 1000)

    # 1..n//1 is empty for n = 0, where 1..0 would count down.
    tasks =
      for _ <- 1..n//1 do
        Task.async(fn -> :timer.sleep(:persistent_term.get({__MODULE__, :ms})) end)
      end

    Task.await_many(tasks, :infinity)
    :ok
  end

  defp parse_args([]), do: fail("missing N")
  defp parse_args([n]), do: {count(n, "N", @max_tasks), 10}
  defp parse_args([n, s]), do: {count(n, "N", @max_tasks), count(s, "SECONDS", @max_seconds)}
  defp parse_args(_), do: fail("too many arguments")

  # Digits only (no sign, no blanks), value at most max.
  defp count(s, what, max) do
    if s =~ ~r/\A[0-9]{1,18}\z/ and String.to_integer(s) <= max do
      String.to_integer(s)
    else
      fail("#{what} must be an integer from 0 to #{max}, got '#{s}'")
    end
  end

  defp fail(problem) do
    IO.puts(:stderr, "#{@name}: #{problem} (usage: #{@name} N [SECONDS])")
    System.halt(2)
  end
end
