#include "core/train/run.h"

#include <cstdio>

namespace ijepa {

TrainObserver* TrainObserver::top()
{
    TrainObserver* t = this;
    while (t->m_list)
        t = t->m_list;
    return t;
}

void TrainObserver::say(const std::string& line)
{
    top()->message(line);
}

void TrainObserver::reportProgress(const std::string& what, std::int64_t done, std::int64_t total)
{
    top()->workProgress(what, done, total);
}

ObserverList::ObserverList(std::initializer_list<TrainObserver*> observers)
{
    for (TrainObserver* o : observers)
        add(*o);
}

ObserverList& ObserverList::add(TrainObserver& observer)
{
    observer.m_list = this;
    m_observers.push_back(&observer);
    return *this;
}

void ObserverList::started(const TrainStart& start)
{
    for (TrainObserver* o : m_observers)
        o->started(start);
}

void ObserverList::stepDone(const Step& step)
{
    for (TrainObserver* o : m_observers)
        o->stepDone(step);
}

void ObserverList::message(const std::string& line)
{
    for (TrainObserver* o : m_observers)
        o->message(line);
}

void ObserverList::workProgress(const std::string& what, std::int64_t done, std::int64_t total)
{
    for (TrainObserver* o : m_observers)
        o->workProgress(what, done, total);
}

void ObserverList::ended(TrainResult& result)
{
    for (TrainObserver* o : m_observers)
        o->ended(result);
}

void ObserverList::settingsChanged(const SettingsChange& change, const TrainStart& now, bool record)
{
    for (TrainObserver* o : m_observers)
        o->settingsChanged(change, now, record);
}

std::string describeStatus(TrainStatus status)
{
    switch (status) {
    case TrainStatus::Finished: return "finished";
    case TrainStatus::MaxSteps: return "reached its step limit";
    case TrainStatus::Stopped: return "stopped on request";
    case TrainStatus::Diverged: return "diverged (non-finite loss)";
    }
    return "ended";
}

std::string describeResult(const TrainResult& r)
{
    char buf[128];
    if (r.nothingToTrain)
        std::snprintf(buf, sizeof(buf), " at iteration %lld: it was there already, no step left to train",
                      static_cast<long long>(r.iteration));
    else
        std::snprintf(buf, sizeof(buf), " at iteration %lld, loss %.4f", static_cast<long long>(r.iteration), r.loss);
    std::string line = describeStatus(r.status) + buf;
    if (r.imagesPerSecond > 0) {
        std::snprintf(buf, sizeof(buf), ", %.1f img/s", r.imagesPerSecond);
        line += buf;
    }
    if (r.skippedFiles > 0)
        line += ", " + std::to_string(r.skippedFiles) + " unreadable files skipped";
    return line;
}

std::string describeVerdict(const std::vector<HealthLine>& verdict)
{
    std::string out;
    for (const auto& line : verdict)
        out += (out.empty() ? "" : "; ") + line.text;
    return out;
}

std::vector<std::unique_ptr<TrainObserver>> standardObservers(const RunSettings& s)
{
    std::vector<std::unique_ptr<TrainObserver>> out;
    out.push_back(std::make_unique<ProbeDiagnostics>(s.diagnostics));
    out.push_back(std::make_unique<PredictorLossMap>(s.diagnostics.every, s.predictorMap));
    out.push_back(std::make_unique<HealthMonitor>(s.health));
    out.push_back(std::make_unique<RunLog>(s.log));
    out.push_back(std::make_unique<Checkpointer>(s.checkpoints));
    return out;
}

TrainResult runTraining(const RunSettings& settings, TrainObserver& observer, const std::atomic_bool& stop)
{
    const auto standard = standardObservers(settings);
    ObserverList observers;
    for (const auto& o : standard)
        observers.add(*o);
    observers.add(observer);
    return train(settings.trainer, observers, stop);
}

} // namespace ijepa
