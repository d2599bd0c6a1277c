/** The CLI's usage text, kept apart so that printing it loads no command. */
export const USAGE = `Usage: deno task autocomm <command> [options]

Commands:
  db migrate                         apply database migrations
  setup load FILE                    load school setup from a JSON file
  setup show [--json]                print the school setup
  fields TABLE [--mode daily|meeting] [--json]
                                     print the field catalog of an import table
  sis TABLE [--school N] [--limit N] [--offset N] [--json]
                                     print rows of an SIS table
  seed-demo                          load the demo district, example files and records
  admin-link                         print a one-time local administrator sign-in link
  import --table T --fields A,B,… --school N [options] FILE
                                     import a file once (see the README for every option)
  run <recordId> | run --school N <name> [--preview] [--json]
                                     run a stored AutoComm record now
  records [--school N] [--json]      list AutoComm records
  runs list [--record N] [--json]    list runs, newest first
  runs show <runId> [--json|--csv]   a run's report (--csv: the rejected rows)
  runs approve <runId>               apply a held run's kept file once
  runs discard <runId>               discard a held run
  connections list [--json]          list managed (SFTP) connections
  connections add --name N --host H --username U [--port P]
      (--password-stdin | --key-file FILE [--passphrase-stdin])
      [--description D] [--no-download] [--allow-upload] [--allow-legacy-ciphers]
      [--fingerprint SHA256:…]       create a connection (secrets from stdin or a file)
  connections test <id> [--accept] [--json]
                                     connect, show the host key and the login folder;
                                     --accept pins the host key shown
  connections remove <id>            delete a connection no record uses
  secrets rotate                     seal stored secrets again under AUTOCOMM_SECRET_KEY
  plugin xml [--out FILE]            write the plugin.xml that installs AutoComm in PowerSchool

Tables: students, teachers, courses, sections, schedules, attendance`;
