"""Português (Brasil) — metrics and demo data."""

METRICS: dict[str, str] = {
    "metrics.sent": "Enviadas",
    "metrics.received": "Recebidas",
    "metrics.failures": "Falhas",
    "metrics.optouts": "Descadastros",
    "metrics.demo_loaded": "Dados de demonstração carregados.",
    "metrics.days7": "7 dias",
    "metrics.days30": "30 dias",
    "metrics.all_numbers": "Todos os números",
    "metrics.all_conversations": "Todas as conversas",
    "metrics.load_demo": "Carregar dados de demonstração",
    "metrics.loading_demo": "Carregando dados de demonstração…",
    "metrics.per_day": "Mensagens por dia",
    "metrics.per_number": "Enviadas × recebidas por número",
    "metrics.heatmap": "Atividade por hora e dia da semana",
    "metrics.topics": "Tópicos mais conversados",
    "metrics.latency": "Latência de resposta por número (s)",
    "metrics.failures_optouts": "Falhas e descadastros",
    "metrics.failure_rate": "Taxa de falha",
    "metrics.avg_latency": "Latência média",
    "metrics.empty": "Ainda não há mensagens no período. Conecte números e ative uma conversa — ou carregue os dados de demonstração.",
}
