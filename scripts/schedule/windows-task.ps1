# Windows Task Scheduler: register one task that runs the daily sweep at 15:00, 16:45, 17:00
# and 20:00 (set the PC's time zone to (UTC+07:00) Bangkok, Hanoi, Jakarta).
# Run in PowerShell as the user who will own the task, after editing the two paths:
#   powershell -ExecutionPolicy Bypass -File windows-task.ps1
$Province = "C:\toolkit\lang-son"
$Toolkit  = "C:\toolkit\.venv\Scripts\toolkit.exe"

$Action = New-ScheduledTaskAction -Execute $Toolkit `
    -Argument "daily --config `"$Province\toolkit.toml`"" -WorkingDirectory $Province
$Triggers = @(
    New-ScheduledTaskTrigger -Daily -At 15:00
    New-ScheduledTaskTrigger -Daily -At 16:45
    New-ScheduledTaskTrigger -Daily -At 17:00
    New-ScheduledTaskTrigger -Daily -At 17:06   # Google Sheets: just after the grace minutes
    New-ScheduledTaskTrigger -Daily -At 20:00
)
# Never two at once; a run longer than an hour is stopped (the next one catches up).
$Settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew `
    -ExecutionTimeLimit (New-TimeSpan -Hours 1) -StartWhenAvailable
Register-ScheduledTask -TaskName "Commune report toolkit - daily" -Action $Action `
    -Trigger $Triggers -Settings $Settings -Description "collect, validate, rollup" -Force
# Exit codes in the task history: 0 ok, 1 some communes failed (named in logs\toolkit.log),
# 2 configuration error.
