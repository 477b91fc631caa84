# event-flood-on-apply (hostile-agent.sh): answers hello, ledger and status
# the way gitdisc-agent would, accepts an apply, then floods progress events
# of that operation and never sends its `done`.
function id_of(line) {
  if (match(line, /"id":[0-9]+/)) return substr(line, RSTART + 5, RLENGTH - 5)
  return 0
}
/"type":"hello"/ {
  printf "{\"type\":\"hello\",\"id\":%s,\"protocol\":1,\"agent_version\":\"hostile\",\"capabilities\":[\"apply\"]}\n", id_of($0)
  fflush()
  next
}
/"type":"ledger"/ {
  printf "{\"type\":\"ledger\",\"id\":%s,\"records\":[]}\n", id_of($0)
  fflush()
  next
}
/"type":"status"/ {
  printf "{\"type\":\"status\",\"id\":%s,\"ops\":[]}\n", id_of($0)
  fflush()
  next
}
/"type":"apply"/ {
  op = ""
  if (match($0, /"op_id":"[^"]*"/)) op = substr($0, RSTART + 9, RLENGTH - 10)
  printf "{\"type\":\"accepted\",\"id\":%s,\"op_id\":\"%s\",\"state\":\"running\"}\n", id_of($0), op
  fflush()
  print "gitdisc-hostile: flooding events of " op > "/dev/console"
  ev = "{\"type\":\"progress\",\"op_id\":\"" op "\",\"payload\":\"\",\"phase\":\"run\",\"message\":\"flood\"}"
  for (;;) print ev
}
